/* The module-list walk on hand-built memory: order, fields, names on
 * missing pages, cycles, broken links, and the UTF-16 conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/modules.h>

#include "fake_kernel_memory.h"

#define HEAD 0x8055a420u
#define POOL 0x81000000u	/* entries live in non-paged pool */
#define NAMES 0xe1000000u	/* their strings in paged pool */

/* Writes an LDR entry at VA linked FLINK/BLINK, with BASE/SIZE and names
 * stored at NAME_VA (BaseDllName) and NAME_VA + 0x100 (FullDllName). */
static void put_entry(struct fake_memory *m, uint32_t va, uint32_t flink, uint32_t blink,
		      uint32_t base, uint32_t size, const char *name, const char *path, uint32_t name_va)
{
	fake_put32(m, va + 0x00, flink);
	fake_put32(m, va + 0x04, blink);
	fake_put32(m, va + 0x18, base);
	fake_put32(m, va + 0x1C, base + 0x400);
	fake_put32(m, va + 0x20, size);
	fake_put32(m, va + 0x24, (uint32_t)(2 * strlen(path)) | ((uint32_t)(2 * strlen(path) + 2) << 16));
	fake_put32(m, va + 0x28, name_va + 0x100);
	fake_put32(m, va + 0x2C, (uint32_t)(2 * strlen(name)) | ((uint32_t)(2 * strlen(name) + 2) << 16));
	fake_put32(m, va + 0x30, name_va);
	fake_put_utf16(m, name_va, name);
	fake_put_utf16(m, name_va + 0x100, path);
}

/* head -> A -> B -> C -> head, with C's name page 0x1000 above the others. */
static struct fake_memory *three_modules(void)
{
	struct fake_memory *m = calloc(1, sizeof(*m));
	uint32_t a = POOL + 0x100, b = POOL + 0x200, c = POOL + 0x300;

	fake_put32(m, HEAD, a);
	fake_put32(m, HEAD + 4, c);
	put_entry(m, a, b, HEAD, 0x804d7000, 0x214000, "ntoskrnl.exe",
		  "\\WINDOWS\\system32\\ntoskrnl.exe", NAMES);
	put_entry(m, b, c, a, 0x806ec000, 0x20000, "hal.dll", "\\WINDOWS\\system32\\hal.dll",
		  NAMES + 0x400);
	put_entry(m, c, HEAD, b, 0xf7e8b000, 0x4ea00 + 0x600, "srv.sys",
		  "\\SystemRoot\\System32\\DRIVERS\\srv.sys", NAMES + 0x1000);
	return m;
}

static void walks_in_list_order(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_false(l.incomplete);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0].name, "ntoskrnl.exe");
	assert_string_equal(l.items[0].path, "\\WINDOWS\\system32\\ntoskrnl.exe");
	assert_int_equal(l.items[0].base, 0x804d7000);
	assert_int_equal(l.items[0].size, 0x214000);
	assert_int_equal(l.items[0].entry_point, 0x804d7400);
	assert_int_equal(l.items[0].entry_va, POOL + 0x100);
	assert_string_equal(l.items[2].name, "srv.sys");
	assert_ptr_equal(nm_modules_find(&l, 0xf7e8b123), &l.items[2]);
	assert_null(nm_modules_find(&l, 0xf7e8b000 + 0x4f000));
	nm_modules_free(&l);
	free(m);
}

static void name_on_a_paged_out_page_is_null_with_its_state(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	fake_find(m, NAMES + 0x1000)->state = NM_PAGE_PAGEFILE;
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_false(l.incomplete);
	assert_int_equal(l.count, 3);
	assert_null(l.items[2].name);
	assert_int_equal(l.items[2].name_state, NM_PAGE_PAGEFILE);
	assert_null(l.items[2].path);
	assert_int_equal(l.items[2].path_state, NM_PAGE_PAGEFILE);
	assert_string_equal(l.items[1].name, "hal.dll");
	assert_int_equal(l.items[1].name_state, NM_PAGE_VALID);
	nm_modules_free(&l);
	free(m);
}

static void cycle_stops_the_walk(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	/* C -> B instead of C -> head; B's Blink still names A. */
	fake_put32(m, POOL + 0x300, POOL + 0x200);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 3);
	assert_non_null(strstr(l.stop_reason, "cycle"));
	nm_modules_free(&l);
	free(m);
}

static void self_loop_and_broken_links_stop_the_walk(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	/* B points at itself. */
	fake_put32(m, POOL + 0x200, POOL + 0x200);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 2);
	nm_modules_free(&l);

	/* B's Flink leads to an unreadable page. */
	fake_put32(m, POOL + 0x200, 0x82000000);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 2);
	assert_non_null(strstr(l.stop_reason, "not_mapped"));
	nm_modules_free(&l);

	/* C's Blink does not name B. */
	fake_put32(m, POOL + 0x200, POOL + 0x300);
	fake_put32(m, POOL + 0x304, POOL + 0x100);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 2);
	assert_non_null(strstr(l.stop_reason, "Blink"));
	nm_modules_free(&l);

	/* Unreadable list head: nothing, incomplete. */
	assert_int_equal(nm_modules_walk(&mem, 0x90000000, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 0);
	nm_modules_free(&l);
	free(m);
}

static void implausible_entry_stops_the_walk(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	fake_put32(m, POOL + 0x200 + 0x20, 0xFFFFF000);	/* SizeOfImage */
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 1);
	assert_non_null(strstr(l.stop_reason, "SizeOfImage"));
	nm_modules_free(&l);
	free(m);
}

static void empty_list_is_complete(void **state)
{
	struct fake_memory *m = calloc(1, sizeof(*m));
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	fake_put32(m, HEAD, HEAD);
	fake_put32(m, HEAD + 4, HEAD);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_false(l.incomplete);
	assert_int_equal(l.count, 0);
	nm_modules_free(&l);
	free(m);
}

static void overlong_name_is_cut_at_the_bound(void **state)
{
	struct fake_memory *m = three_modules();
	struct nm_vmem mem = fake_vmem(m);
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };
	char big[1200];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_page(m, NAMES + 0x2000, NM_PAGE_VALID);
	fake_put_utf16(m, NAMES + 0x2000, big);
	fake_put32(m, POOL + 0x100 + 0x2C, 0xFFFEFFFE);		/* Length 0xFFFE */
	fake_put32(m, POOL + 0x100 + 0x30, NAMES + 0x2000);
	assert_int_equal(nm_modules_walk(&mem, HEAD, &l, &err), 0);
	assert_int_equal(strlen(l.items[0].name), NM_MODULE_NAME_MAX_BYTES / 2);
	nm_modules_free(&l);
	free(m);
}

static void utf16_conversion(void **state)
{
	/* "Aé€😀" then a lone high surrogate then "z". */
	static const uint8_t s[] = { 'A', 0, 0xE9, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE,
				     0x3D, 0xD8, 'z', 0 };
	char *u;

	(void)state;
	u = nm_utf16le_to_utf8(s, sizeof(s));
	assert_string_equal(u, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBDz");
	free(u);
	/* An odd last byte is ignored; a lone low surrogate is replaced. */
	u = nm_utf16le_to_utf8((const uint8_t *)"\x00\xDC" "a", 3);
	assert_string_equal(u, "\xEF\xBF\xBD");
	free(u);
	u = nm_utf16le_to_utf8((const uint8_t *)"", 0);
	assert_string_equal(u, "");
	free(u);
}

/* x64 KLDR_DATA_TABLE_ENTRY (ntdiff/headers Win10_1803_RS4 x64): links
 * 0/8, DllBase 0x30, EntryPoint 0x38, SizeOfImage 0x40, FullDllName 0x48,
 * BaseDllName 0x58; UNICODE_STRING Buffer at +8. */
#define HEAD64 UINT64_C(0xFFFFF80012A2A270)
#define POOL64 UINT64_C(0xFFFFB48000001000)
#define NAMES64 UINT64_C(0xFFFFB48000100000)

static void put_entry64(struct fake_memory *m, uint64_t va, uint64_t flink, uint64_t blink,
			uint64_t base, uint32_t size, const char *name, uint64_t name_va)
{
	fake_put64(m, va + 0x00, flink);
	fake_put64(m, va + 0x08, blink);
	fake_put64(m, va + 0x30, base);
	fake_put64(m, va + 0x38, base + 0x1010);
	fake_put32(m, va + 0x40, size);
	fake_put32(m, va + 0x48, (uint32_t)(2 * strlen(name)) | ((uint32_t)(2 * strlen(name) + 2) << 16));
	fake_put64(m, va + 0x50, name_va + 0x100);
	fake_put32(m, va + 0x58, (uint32_t)(2 * strlen(name)) | ((uint32_t)(2 * strlen(name) + 2) << 16));
	fake_put64(m, va + 0x60, name_va);
	fake_put_utf16(m, name_va, name);
	fake_put_utf16(m, name_va + 0x100, name);
}

static void x64_entries_walk_with_their_own_layout(void **state)
{
	struct fake_memory *m = calloc(1, sizeof(*m));
	uint64_t a = POOL64 + 0x100, b = POOL64 + 0x200;
	struct nm_vmem mem;
	struct nm_module_list l;
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	m->pointer_size = 8;
	fake_put64(m, HEAD64, a);
	fake_put64(m, HEAD64 + 8, b);
	put_entry64(m, a, b, HEAD64, UINT64_C(0xFFFFF80012600000), 0xA47000, "ntoskrnl.exe", NAMES64);
	put_entry64(m, b, HEAD64, a, UINT64_C(0xFFFFF80015A00000), 0x6000, "x64drv.sys", NAMES64 + 0x400);
	mem = fake_vmem(m);
	assert_int_equal(nm_modules_walk(&mem, HEAD64, &l, &err), 0);
	assert_false(l.incomplete);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].name, "ntoskrnl.exe");
	assert_int_equal(l.items[0].base, UINT64_C(0xFFFFF80012600000));
	assert_int_equal(l.items[0].entry_point, UINT64_C(0xFFFFF80012601010));
	assert_int_equal(l.items[0].size, 0xA47000);
	assert_int_equal(l.items[1].entry_va, b);
	assert_string_equal(l.items[1].name, "x64drv.sys");
	assert_ptr_equal(nm_modules_find(&l, UINT64_C(0xFFFFF80015A05FFF)), &l.items[1]);
	nm_modules_free(&l);
	/* Read as x86, the same bytes make no sense: the walk stops. */
	mem.pointer_size = 4;
	assert_int_equal(nm_modules_walk(&mem, HEAD64, &l, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.count, 0);
	nm_modules_free(&l);
	/* A user-space DllBase is refused on x64. */
	fake_put64(m, a + 0x30, UINT64_C(0x00007FF600000000));
	mem.pointer_size = 8;
	assert_int_equal(nm_modules_walk(&mem, HEAD64, &l, &err), 0);
	assert_true(l.incomplete);
	assert_non_null(strstr(l.stop_reason, "system address"));
	nm_modules_free(&l);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(x64_entries_walk_with_their_own_layout),
		cmocka_unit_test(walks_in_list_order),
		cmocka_unit_test(name_on_a_paged_out_page_is_null_with_its_state),
		cmocka_unit_test(cycle_stops_the_walk),
		cmocka_unit_test(self_loop_and_broken_links_stop_the_walk),
		cmocka_unit_test(implausible_entry_stops_the_walk),
		cmocka_unit_test(empty_list_is_complete),
		cmocka_unit_test(overlong_name_is_cut_at_the_bound),
		cmocka_unit_test(utf16_conversion),
	};
	return cmocka_run_group_tests_name("modules", tests, NULL, NULL);
}
