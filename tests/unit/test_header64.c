/* The 64-bit dump header (DUMP_HEADER64, docs/dump-format.md) over
 * hand-built buffers: x64 full dumps with memory above 4 GiB, truncation,
 * the PCID bits of DirectoryTableBase, bitmap dumps at 0x2000, ARM and ARM64
 * machines, the x64 context record, and triage driver lists (32 and 64-bit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/source.h>
#include <ntmem/triage.h>

#define PAGE 4096u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void fill_page(uint8_t *h, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(h + i, "PAGE", 4);
}

static void header64(uint8_t *h, uint32_t machine, uint32_t dump_type)
{
	fill_page(h, 0x2000);
	memcpy(h, "PAGEDU64", 8);
	put32(h + 0x08, 0xF);
	put32(h + 0x0C, 19041);
	put64(h + 0x10, 0x1AD002);		/* PCID 2 in the low bits */
	put32(h + 0x30, machine);
	put32(h + 0x34, 16);
	put32(h + 0x38, 0x1000007E);
	put64(h + 0x80, UINT64_C(0xFFFFF8047C600B20));
	put32(h + 0xF98, dump_type);
}

static int open_buf(uint8_t *buf, size_t len, nm_source **src)
{
	nm_error err;

	memset(&err, 0, sizeof(err));
	return nm_source_open_buffer(buf, len, false, src, &err);
}

/* Runs {0x10, 2} and {0x140000, 1}: the last page is at 5 GiB. */
static uint8_t *full64(size_t *len, unsigned pages_in_file)
{
	uint8_t *b;

	*len = 0x2000 + PAGE * pages_in_file;
	b = calloc(1, *len);
	header64(b, 0x8664, 1);
	put32(b + 0x88, 2);
	put64(b + 0x90, 3);
	put64(b + 0x98, 0x10);
	put64(b + 0xA0, 2);
	put64(b + 0xA8, 0x140000);
	put64(b + 0xB0, 1);
	for (unsigned i = 0; i < pages_in_file; i++)
		put32(b + 0x2000 + PAGE * i, 0xA0 + i);
	return b;
}

static void full_dump_serves_pages_above_4g(void **state)
{
	size_t len;
	uint8_t *b = full64(&len, 3);
	nm_source *src;
	const struct nm_dump_facts *f;

	(void)state;
	assert_int_equal(open_buf(b, len, &src), 0);
	f = nm_source_facts(src);
	assert_int_equal(f->arch, NM_ARCH_X64);
	assert_int_equal(f->type, NM_DUMP_FULL);
	assert_true(f->dtb == 0x1AD000);
	assert_true(f->dtb_raw == 0x1AD002);
	assert_int_equal(f->pages_in_dump, 3);
	assert_false(nm_source_truncated(f));
	assert_true(f->max_pfn == 0x140001);
	assert_ptr_equal(nm_source_page(src, 0x10), b + 0x2000);
	assert_ptr_equal(nm_source_page(src, 0x11), b + 0x3000);
	assert_ptr_equal(nm_source_page(src, 0x140000), b + 0x4000);
	assert_null(nm_source_page(src, 0x12));
	assert_null(nm_source_page(src, 0x13FFFF));
	nm_source_close(src);
	free(b);
}

static void truncated_full_dump_keeps_header_serves_nothing(void **state)
{
	size_t len;
	uint8_t *b = full64(&len, 1);
	nm_source *src;
	const struct nm_dump_facts *f;

	(void)state;
	assert_int_equal(open_buf(b, len, &src), 0);
	f = nm_source_facts(src);
	assert_true(nm_source_truncated(f));
	assert_true(f->size_needed == 0x2000 + 3 * PAGE);
	assert_true(f->file_size == len);
	assert_int_equal(f->pages_in_dump, 1);
	assert_int_equal(f->max_pfn, 0);
	assert_int_equal(f->nruns, 2);
	assert_null(nm_source_page(src, 0x10));
	nm_source_close(src);
	free(b);
}

static void bad_run_tables_are_refused(void **state)
{
	size_t len;
	uint8_t *b = full64(&len, 3);
	nm_source *src;

	(void)state;
	put64(b + 0xA8, 0x11);			/* overlaps the first run */
	assert_int_equal(open_buf(b, len, &src), -1);
	put64(b + 0xA8, 0x140000);
	put64(b + 0x90, 4);			/* NumberOfPages disagrees */
	assert_int_equal(open_buf(b, len, &src), -1);
	put64(b + 0x90, 3);
	put32(b + 0x88, 44);			/* more than fit */
	assert_int_equal(open_buf(b, len, &src), -1);
	put32(b + 0x88, 2);
	put64(b + 0xB0, UINT64_C(1) << 50);	/* absurd page count */
	assert_int_equal(open_buf(b, len, &src), -1);
	free(b);
}

/* FDMP bitmap: PFNs 1 and 70 present. */
static void bitmap_dump_at_0x2000(void **state)
{
	size_t len = 0x3000 + 2 * PAGE;
	uint8_t *b = calloc(1, len);
	nm_source *src;

	(void)state;
	header64(b, 0x8664, 5);
	memcpy(b + 0x2000, "FDMPDUMP", 8);
	put64(b + 0x2020, 0x3000);
	put64(b + 0x2028, 2);
	put64(b + 0x2030, 128);
	b[0x2038] = 0x02;
	b[0x2038 + 8] = 0x40;
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_source_facts(src)->type, NM_DUMP_BITMAP);
	assert_string_equal(nm_source_facts(src)->bitmap_signature, "FDMP");
	assert_ptr_equal(nm_source_page(src, 1), b + 0x3000);
	assert_ptr_equal(nm_source_page(src, 70), b + 0x4000);
	assert_null(nm_source_page(src, 2));
	nm_source_close(src);
	/* cut one page off: reported as truncated, not refused */
	assert_int_equal(open_buf(b, len - PAGE, &src), 0);
	assert_true(nm_source_truncated(nm_source_facts(src)));
	assert_int_equal(nm_source_facts(src)->pages_in_dump, 1);
	assert_int_equal(nm_source_facts(src)->max_pfn, 0);
	nm_source_close(src);
	/* a popcount that disagrees is still an error */
	put64(b + 0x2028, 1);
	assert_int_equal(open_buf(b, len, &src), -1);
	free(b);
}

static void machines(void **state)
{
	uint8_t *b = calloc(1, 0x3000);
	nm_source *src;

	(void)state;
	header64(b, 0xAA64, 3);
	assert_int_equal(open_buf(b, 0x3000, &src), 0);
	assert_int_equal(nm_source_facts(src)->arch, NM_ARCH_ARM64);
	assert_false(nm_arch_has_walks(nm_source_facts(src)->arch));
	assert_true(nm_source_facts(src)->dtb == 0x1AD002);	/* not an x64 CR3: kept whole */
	assert_string_equal(nm_arch_name(NM_ARCH_ARM64), "arm64");
	nm_source_close(src);
	header64(b, 0x14C, 3);
	assert_int_equal(open_buf(b, 0x3000, &src), -1);
	/* a 32-bit header from an ARMNT machine */
	fill_page(b, 0x1000);
	memcpy(b, "PAGEDUMP", 8);
	put32(b + 0x20, 0x1C4);
	put32(b + 0xF88, 3);
	assert_int_equal(open_buf(b, 0x3000, &src), 0);
	assert_int_equal(nm_source_facts(src)->arch, NM_ARCH_ARM);
	assert_string_equal(nm_arch_name(NM_ARCH_ARM), "arm");
	assert_false(nm_source_facts(src)->has_context);
	nm_source_close(src);
	free(b);
}

static void x64_context_record(void **state)
{
	uint8_t *b = calloc(1, 0x3000);
	nm_source *src;
	const struct nm_context_x64 *c;

	(void)state;
	header64(b, 0x8664, 3);
	put32(b + 0x348 + 0x30, 0x10001F);
	put16(b + 0x348 + 0x38, 0x10);
	put64(b + 0x348 + 0x98, UINT64_C(0xFFFF850429892120));	/* Rsp */
	put64(b + 0x348 + 0xA0, UINT64_C(0xFFFF850429892200));	/* Rbp */
	put64(b + 0x348 + 0xF8, UINT64_C(0xFFFFF8048B58334C));	/* Rip */
	assert_int_equal(open_buf(b, 0x3000, &src), 0);
	assert_true(nm_source_facts(src)->has_context);
	c = &nm_source_facts(src)->context64;
	assert_true(c->rip == UINT64_C(0xFFFFF8048B58334C));
	assert_true(c->rsp == UINT64_C(0xFFFF850429892120));
	assert_true(c->rbp == UINT64_C(0xFFFF850429892200));
	assert_int_equal(c->seg_cs, 0x10);
	nm_source_close(src);
	free(b);
}

static size_t put_string(uint8_t *at, const char *s)
{
	size_t n = strlen(s);

	put32(at, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		put16(at + 4 + 2 * i, (uint8_t)s[i]);
	return 4 + 2 * n + 2;
}

/* TRIAGE_DUMP64 at 0x2000; two drivers at 0x3000 (0x90 each), pool at 0x3200. */
static void triage64_driver_list(void **state)
{
	size_t len = 0x4000;
	uint8_t *b = calloc(1, len);
	nm_source *src;
	struct nm_triage t;
	struct nm_triage_driver d;
	nm_error err;
	size_t n;

	(void)state;
	header64(b, 0x8664, 4);
	put32(b + 0x1038, 0xCFF);
	put32(b + 0x2030, 0x3000);
	put32(b + 0x2034, 2);
	put32(b + 0x2038, 0x3200);
	put32(b + 0x203C, 0x100);
	put32(b + 0x3000, 0x3200);
	put64(b + 0x3000 + 0x38, UINT64_C(0xFFFFF8047BA00000));
	put32(b + 0x3000 + 0x48, 0x1046000);
	n = put_string(b + 0x3200, "\\SystemRoot\\system32\\ntoskrnl.exe");
	put32(b + 0x3090, (uint32_t)(0x3200 + ((n + 7) & ~7u)));
	put64(b + 0x3090 + 0x38, UINT64_C(0xFFFFF80479440000));
	put32(b + 0x3090 + 0x48, 0x6000);
	put_string(b + 0x3200 + ((n + 7) & ~7u), "hal.dll");
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), 0);
	assert_int_equal(t.driver_count, 2);
	nm_triage_driver(src, &t, 0, &d);
	assert_true(d.base == UINT64_C(0xFFFFF8047BA00000));
	assert_int_equal(d.size, 0x1046000);
	assert_int_equal(d.name_bytes, 2 * 33);
	assert_memory_equal(d.name, "\\\0S\0", 4);
	nm_triage_driver(src, &t, 1, &d);
	assert_int_equal(d.name_bytes, 14);
	nm_source_close(src);
	/* a name offset outside the pool gives no name, not a read outside */
	put32(b + 0x3090, 0x3F00);
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), 0);
	nm_triage_driver(src, &t, 1, &d);
	assert_null(d.name);
	assert_non_null(d.name_problem);
	nm_source_close(src);
	/* a count beyond the file is refused, naming the field */
	put32(b + 0x2034, 0x1000000);
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), -1);
	assert_string_equal(err.what, "triage.DriverCount");
	nm_source_close(src);
	/* a string whose Length runs past the pool stops at the pool's end */
	put32(b + 0x2034, 1);
	put32(b + 0x3200, 0x7FFFFFFF);
	memset(b + 0x3204, 'A', 0x100 - 4);
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), 0);
	nm_triage_driver(src, &t, 0, &d);
	assert_int_equal(d.name_bytes, 0x100 - 4);
	nm_source_close(src);
	/* MiniDumpFields without TRIAGE_DUMP_DRIVER_LIST: no list */
	put32(b + 0x1038, 0x3F);
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), 0);
	assert_false(t.has_driver_list);
	assert_int_equal(t.driver_count, 0);
	nm_source_close(src);
	free(b);
}

/* TRIAGE_DUMP32 at 0x1000: entries of 0x4C, DllBase at +0x1C. */
static void triage32_driver_list(void **state)
{
	size_t len = 0x3000;
	uint8_t *b = calloc(1, len);
	nm_source *src;
	struct nm_triage t;
	struct nm_triage_driver d;
	nm_error err;

	(void)state;
	fill_page(b, 0x1000);
	memcpy(b, "PAGEDUMP", 8);
	put32(b + 0x20, 0x14C);
	b[0x5C] = 0;
	put32(b + 0xF88, 4);
	put32(b + 0xF8C, 0xFFF);
	memset(b + 0x1000, 0, 0x68);
	put32(b + 0x1030, 0x2000);
	put32(b + 0x1034, 1);
	put32(b + 0x1038, 0x2100);
	put32(b + 0x103C, 0x40);
	put32(b + 0x2000, 0x2100);
	put32(b + 0x2000 + 0x1C, 0x804D7000);
	put32(b + 0x2000 + 0x24, 0x1F8580);
	put_string(b + 0x2100, "ntoskrnl.exe");
	assert_int_equal(open_buf(b, len, &src), 0);
	assert_int_equal(nm_triage_open(src, &t, &err), 0);
	assert_false(t.wide);
	assert_int_equal(t.driver_count, 1);
	nm_triage_driver(src, &t, 0, &d);
	assert_true(d.base == 0x804D7000);
	assert_int_equal(d.size, 0x1F8580);
	assert_int_equal(d.name_bytes, 24);
	nm_source_close(src);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_dump_serves_pages_above_4g),
		cmocka_unit_test(truncated_full_dump_keeps_header_serves_nothing),
		cmocka_unit_test(bad_run_tables_are_refused),
		cmocka_unit_test(bitmap_dump_at_0x2000),
		cmocka_unit_test(machines),
		cmocka_unit_test(x64_context_record),
		cmocka_unit_test(triage64_driver_list),
		cmocka_unit_test(triage32_driver_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
