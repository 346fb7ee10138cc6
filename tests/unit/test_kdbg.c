/* KDBG validation on hand-built memory: what a good block needs, and each
 * way a block is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/kdbg.h>

#include "fake_kernel_memory.h"

#define KDBG_VA 0x8054df00u	/* inside the kernel image; the block spans two pages */
#define KERN_BASE 0x804d7000u
#define LIST_HEAD 0x8055a420u

/* An XP block: List (zero upper halves), "KDBG", Size 0x290, KernBase and
 * PsLoadedModuleList; the kernel's MZ/PE header says SizeOfImage 0x214000. */
static struct fake_memory *xp_memory(uint32_t size)
{
	struct fake_memory *m = calloc(1, sizeof(*m));

	fake_page(m, KDBG_VA, NM_PAGE_VALID);
	fake_page(m, KDBG_VA + 0x1000, NM_PAGE_VALID);
	fake_put32(m, KDBG_VA, 0x80545b38);
	fake_put32(m, KDBG_VA + 4, 0x80545b38);
	fake_put(m, KDBG_VA + 0x10, "KDBG", 4);
	fake_put32(m, KDBG_VA + 0x14, size);
	fake_put64(m, KDBG_VA + NM_KDBG_KERN_BASE, KERN_BASE);
	fake_put64(m, KDBG_VA + NM_KDBG_PS_LOADED_MODULE_LIST, LIST_HEAD);
	fake_put64(m, KDBG_VA + NM_KDBG_MM_PFN_DATABASE, 0x8055b6c8);
	fake_put(m, KERN_BASE, "MZ", 2);
	fake_put32(m, KERN_BASE + 0x3C, 0xE8);
	fake_put(m, KERN_BASE + 0xE8, "PE\0\0", 4);
	fake_put32(m, KERN_BASE + 0xE8 + 0x18 + 0x38, 0x214000);
	return m;
}

static int validate(struct fake_memory *m, uint32_t build, struct nm_kdbg *k, nm_error *err)
{
	struct nm_vmem mem = fake_vmem(m);

	return nm_kdbg_validate(&mem, KDBG_VA, build, NM_KDBG_FROM_HEADER, k, err);
}

static void good_block_is_accepted_with_its_slots(void **state)
{
	struct fake_memory *m = xp_memory(0x290);
	struct nm_kdbg *k = calloc(1, sizeof(*k));
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	assert_int_equal(validate(m, 2600, k, &err), 0);
	assert_int_equal(k->va, KDBG_VA);
	assert_int_equal(k->size, 0x290);
	assert_int_equal(k->source, NM_KDBG_FROM_HEADER);
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_KERN_BASE), KERN_BASE);
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_MM_PFN_DATABASE), 0x8055b6c8);
	/* Past Size the copy is zero, whatever memory holds. */
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_MM_SESSION_SIZE + 0x10), 0);
	free(k);
	free(m);
}

static void sign_extended_slots_are_masked(void **state)
{
	struct fake_memory *m = xp_memory(0x290);
	struct nm_kdbg *k = calloc(1, sizeof(*k));
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	fake_put64(m, KDBG_VA + NM_KDBG_KERN_BASE, 0xFFFFFFFF00000000ull | KERN_BASE);
	fake_put64(m, KDBG_VA + NM_KDBG_PS_LOADED_MODULE_LIST, 0xFFFFFFFF00000000ull | LIST_HEAD);
	assert_int_equal(validate(m, 2600, k, &err), 0);
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_PS_LOADED_MODULE_LIST), LIST_HEAD);
	/* Any other upper dword is not a 32-bit kernel's pointer. */
	fake_put64(m, KDBG_VA + NM_KDBG_KERN_BASE, 0x0000000100000000ull | KERN_BASE);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.KernBase");
	free(k);
	free(m);
}

static void refusals_name_the_field(void **state)
{
	struct nm_kdbg *k = calloc(1, sizeof(*k));
	nm_error err = { { 0 }, { 0 } };
	struct fake_memory *m;

	(void)state;
	m = xp_memory(0x290);
	fake_put(m, KDBG_VA + 0x10, "KDBH", 4);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.OwnerTag");
	free(m);

	m = xp_memory(0x291);
	assert_int_equal(validate(m, 0, k, &err), -1);
	assert_string_equal(err.what, "kdbg.Size");
	free(m);

	/* A 2003-sized block in a dump whose header says XP. */
	m = xp_memory(0x318);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.Size");
	assert_int_equal(validate(m, 3790, k, &err), 0);
	assert_int_equal(validate(m, 0, k, &err), 0);
	free(m);

	m = xp_memory(0x290);
	fake_put(m, KERN_BASE, "ZM", 2);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.KernBase");
	free(m);

	m = xp_memory(0x290);
	fake_find(m, KERN_BASE)->state = NM_PAGE_PAGEFILE;
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.KernBase");
	assert_non_null(strstr(err.why, "pagefile"));
	free(m);

	/* Module list head outside [KernBase, KernBase + SizeOfImage). */
	m = xp_memory(0x290);
	fake_put64(m, KDBG_VA + NM_KDBG_PS_LOADED_MODULE_LIST, KERN_BASE + 0x214000);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg.PsLoadedModuleList");
	fake_put64(m, KDBG_VA + NM_KDBG_PS_LOADED_MODULE_LIST, KERN_BASE - 4);
	assert_int_equal(validate(m, 2600, k, &err), -1);
	free(m);

	/* Block whose second page is missing: partly unreadable. */
	m = xp_memory(0x290);
	fake_find(m, KDBG_VA + 0x1000)->state = NM_PAGE_NOT_IN_DUMP;
	assert_int_equal(validate(m, 2600, k, &err), -1);
	assert_string_equal(err.what, "kdbg");
	assert_non_null(strstr(err.why, "not_in_dump"));
	free(m);
	free(k);
}

static void source_names(void **state)
{
	(void)state;
	assert_string_equal(nm_kdbg_source_name(NM_KDBG_FROM_HEADER), "header");
	assert_string_equal(nm_kdbg_source_name(NM_KDBG_FROM_SCAN), "scan");
	assert_string_equal(nm_kdbg_source_name(NM_KDBG_FROM_OPTION), "option");
}

/* An x64 Windows 10 block (Size 0x380, build 17763): every slot is a full
 * 64-bit kernel address; List links are canonical upper-half pointers. */
#define KDBG64_VA UINT64_C(0xFFFFF80012A4F500)
#define KERN64_BASE UINT64_C(0xFFFFF80012600000)
#define LIST64_HEAD UINT64_C(0xFFFFF80012A2A270)

static struct fake_memory *x64_memory(uint64_t kern_base)
{
	struct fake_memory *m = calloc(1, sizeof(*m));

	m->pointer_size = 8;
	fake_page(m, KDBG64_VA, NM_PAGE_VALID);
	fake_put64(m, KDBG64_VA, UINT64_C(0xFFFFF80012A1C9B0));
	fake_put64(m, KDBG64_VA + 8, UINT64_C(0xFFFFF80012A1C9B0));
	fake_put(m, KDBG64_VA + 0x10, "KDBG", 4);
	fake_put32(m, KDBG64_VA + 0x14, 0x380);
	fake_put64(m, KDBG64_VA + NM_KDBG_KERN_BASE, kern_base);
	fake_put64(m, KDBG64_VA + NM_KDBG_PS_LOADED_MODULE_LIST, LIST64_HEAD);
	fake_put(m, KERN64_BASE, "MZ", 2);
	fake_put32(m, KERN64_BASE + 0x3C, 0x108);
	fake_put(m, KERN64_BASE + 0x108, "PE\0\0", 4);
	fake_put32(m, KERN64_BASE + 0x108 + 0x18 + 0x38, 0xA47000);	/* PE32+ SizeOfImage, same place */
	return m;
}

static void x64_block_keeps_64_bit_slots(void **state)
{
	struct fake_memory *m = x64_memory(KERN64_BASE);
	struct nm_vmem mem = fake_vmem(m);
	struct nm_kdbg *k = calloc(1, sizeof(*k));
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	assert_int_equal(nm_kdbg_validate(&mem, KDBG64_VA, 17763, NM_KDBG_FROM_HEADER, k, &err), 0);
	assert_int_equal(k->va, KDBG64_VA);
	assert_int_equal(k->pointer_size, 8);
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_KERN_BASE), KERN64_BASE);
	assert_int_equal(nm_kdbg_slot(k, NM_KDBG_PS_LOADED_MODULE_LIST), LIST64_HEAD);
	free(k);
	free(m);
}

static void x64_block_refusals(void **state)
{
	struct fake_memory *m = x64_memory(UINT64_C(0x0000000012600000));	/* a user address */
	struct nm_vmem mem = fake_vmem(m);
	struct nm_kdbg *k = calloc(1, sizeof(*k));
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	assert_int_equal(nm_kdbg_validate(&mem, KDBG64_VA, 17763, NM_KDBG_FROM_HEADER, k, &err), -1);
	assert_string_equal(err.what, "kdbg.KernBase");
	free(m);
	/* A block whose tag is not readable as "KDBG" (encoded in memory, Windows
	 * 8+ x64): refused with a pointer to the reason. */
	m = x64_memory(KERN64_BASE);
	fake_put(m, KDBG64_VA + 0x10, "\x13\x37\xC0\xDE", 4);
	mem = fake_vmem(m);
	assert_int_equal(nm_kdbg_validate(&mem, KDBG64_VA, 17763, NM_KDBG_FROM_HEADER, k, &err), -1);
	assert_string_equal(err.what, "kdbg.OwnerTag");
	assert_non_null(strstr(err.why, "encoded"));
	/* The module list head outside the kernel image. */
	free(m);
	m = x64_memory(KERN64_BASE);
	fake_put64(m, KDBG64_VA + NM_KDBG_PS_LOADED_MODULE_LIST, KERN64_BASE + 0xA47000);
	mem = fake_vmem(m);
	assert_int_equal(nm_kdbg_validate(&mem, KDBG64_VA, 17763, NM_KDBG_FROM_HEADER, k, &err), -1);
	assert_string_equal(err.what, "kdbg.PsLoadedModuleList");
	free(k);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(x64_block_keeps_64_bit_slots),
		cmocka_unit_test(x64_block_refusals),
		cmocka_unit_test(good_block_is_accepted_with_its_slots),
		cmocka_unit_test(sign_extended_slots_are_masked),
		cmocka_unit_test(refusals_name_the_field),
		cmocka_unit_test(source_names),
	};
	return cmocka_run_group_tests_name("kdbg", tests, NULL, NULL);
}
