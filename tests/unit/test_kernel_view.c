/* The kernel view over a hand-built raw physical image: a page directory
 * with its self-map, a 64-page kernel area holding an MZ image, the KDBG,
 * its list head, two variables and a PFN database. Covers the KDBG from an
 * option and from the scan, the version taken from the KDBG size, the
 * PFN reads, and the stale rule of nm_kernel_walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/ntmem.h>

#define IMAGE_SIZE (1024u * 4096u)	/* 4 MiB of physical memory */
#define PD_PA 0x1000u
#define PT_PA 0x2000u
#define AREA_VA 0x80000000u		/* 64 pages mapped to PA 0x10000.. */
#define AREA_PA 0x10000u
#define KDBG_VA 0x80001100u
#define HEAD_VA 0x80001000u		/* KdpDebuggerDataListHead */
#define MODLIST_VA 0x80001040u
#define VARS_VA 0x80002000u
#define PFNDB_VA 0x80020000u
#define STALE_VA 0x8003F000u
#define UNOWNED_VA 0x8003E000u

static void put32(uint8_t *m, uint32_t pa, uint32_t v)
{
	m[pa] = (uint8_t)v;
	m[pa + 1] = (uint8_t)(v >> 8);
	m[pa + 2] = (uint8_t)(v >> 16);
	m[pa + 3] = (uint8_t)(v >> 24);
}

static uint32_t pa_of(uint32_t va)
{
	return AREA_PA + (va - AREA_VA);
}

static void put_va32(uint8_t *m, uint32_t va, uint32_t v)
{
	put32(m, pa_of(va), v);
}

/* XP MMPFN (docs/mmpfn.md): PteAddress +4, flags +0xC (location bits 8-10). */
static void pfn_entry(uint8_t *m, uint32_t pfn, uint32_t pte_address)
{
	uint32_t e = PFNDB_VA + pfn * 0x18;

	put_va32(m, e + 4, pte_address);
	put_va32(m, e + 8, 1);
	put_va32(m, e + 0xC, (6u << 8) | (1u << 16));	/* active, ReferenceCount 1 */
}

static uint8_t *build_image(void)
{
	uint8_t *m = calloc(1, IMAGE_SIZE);

	put32(m, PD_PA + 0x300 * 4, PD_PA | 0x63);		/* self-map */
	put32(m, PD_PA + (AREA_VA >> 22) * 4, PT_PA | 0x63);
	for (uint32_t i = 0; i < 64; i++)
		put32(m, PT_PA + i * 4, (AREA_PA + i * 0x1000) | 0x163);
	/* The kernel image: MZ, PE header with SizeOfImage 0x40000. */
	m[pa_of(AREA_VA)] = 'M';
	m[pa_of(AREA_VA) + 1] = 'Z';
	put_va32(m, AREA_VA + 0x3C, 0x80);
	put_va32(m, AREA_VA + 0x80, 0x00004550);
	put_va32(m, AREA_VA + 0x80 + 0x18 + 0x38, 0x40000);
	/* The KDBG on its list, an empty module list. */
	put_va32(m, HEAD_VA, KDBG_VA);
	put_va32(m, HEAD_VA + 4, KDBG_VA);
	put_va32(m, KDBG_VA, HEAD_VA);
	put_va32(m, KDBG_VA + 4, HEAD_VA);
	memcpy(m + pa_of(KDBG_VA) + 0x10, "KDBG", 4);
	put_va32(m, KDBG_VA + 0x14, 0x290);
	put_va32(m, KDBG_VA + NM_KDBG_KERN_BASE, AREA_VA);
	put_va32(m, KDBG_VA + NM_KDBG_PS_LOADED_MODULE_LIST, MODLIST_VA);
	put_va32(m, MODLIST_VA, MODLIST_VA);
	put_va32(m, MODLIST_VA + 4, MODLIST_VA);
	put_va32(m, KDBG_VA + NM_KDBG_MM_PFN_DATABASE, VARS_VA);
	put_va32(m, KDBG_VA + NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE, VARS_VA + 4);
	put_va32(m, VARS_VA, PFNDB_VA);
	put_va32(m, VARS_VA + 4, 0x3FF);
	/* Every mapped frame names its PTE, except: the frame under STALE_VA
	 * names another PTE, the one under UNOWNED_VA names none. */
	for (uint32_t i = 0; i < 64; i++)
		pfn_entry(m, (AREA_PA >> 12) + i, 0xC0000000u + ((AREA_VA >> 12) + i) * 4);
	pfn_entry(m, pa_of(STALE_VA) >> 12, 0xC0000000u + (0x90000000u >> 12) * 4);
	pfn_entry(m, pa_of(UNOWNED_VA) >> 12, 0);
	return m;
}

struct view {
	uint8_t *image;
	nm_source *src;
	struct nm_kernel k;
};

static void open_view(struct view *v, bool has_kdbg, uint32_t kdbg_va)
{
	struct nm_kernel_options opt = { .has_dtb = true, .dtb = PD_PA, .has_kdbg = has_kdbg,
					  .kdbg_va = kdbg_va };
	nm_error err = { { 0 }, { 0 } };

	v->image = build_image();
	assert_int_equal(nm_source_open_buffer(v->image, IMAGE_SIZE, true, &v->src, &err), 0);
	assert_int_equal(nm_kernel_open(v->src, &opt, &v->k, &err), 0);
}

static void close_view(struct view *v)
{
	nm_kernel_close(&v->k);
	nm_source_close(v->src);
	free(v->image);
}

static void kdbg_from_option_and_version_from_its_size(void **state)
{
	struct view v;

	(void)state;
	open_view(&v, true, KDBG_VA);
	assert_true(v.k.has_kdbg);
	assert_int_equal(v.k.kdbg.source, NM_KDBG_FROM_OPTION);
	assert_int_equal(v.k.kdbg.va, KDBG_VA);
	assert_string_equal(v.k.version->name, "Windows XP");
	assert_int_equal(v.k.kernel_base, AREA_VA);
	assert_true(v.k.has_pfn_database);
	assert_int_equal(v.k.pfn_database, PFNDB_VA);
	assert_int_equal(v.k.pfn_count, 0x400);
	close_view(&v);
}

static void scan_finds_the_block_through_its_list_links(void **state)
{
	struct view v;

	(void)state;
	/* A raw image has no header pointer: the scan runs. */
	open_view(&v, false, 0);
	assert_true(v.k.has_kdbg);
	assert_int_equal(v.k.kdbg.source, NM_KDBG_FROM_SCAN);
	assert_int_equal(v.k.kdbg.va, KDBG_VA);
	close_view(&v);
	/* --kdbg 0 asks for the scan as well. */
	open_view(&v, true, 0);
	assert_int_equal(v.k.kdbg.source, NM_KDBG_FROM_SCAN);
	close_view(&v);
}

static void refused_option_leaves_no_kdbg_and_says_why(void **state)
{
	struct view v;

	(void)state;
	open_view(&v, true, KDBG_VA + 8);
	assert_false(v.k.has_kdbg);
	assert_string_equal(v.k.kdbg_error.what, "--kdbg");
	assert_non_null(strstr(v.k.kdbg_error.why, "kdbg.OwnerTag"));
	close_view(&v);
}

static void scan_rejects_a_copy_that_does_not_map_back(void **state)
{
	struct view v;
	nm_error err = { { 0 }, { 0 } };
	struct nm_kdbg k;

	(void)state;
	open_view(&v, true, KDBG_VA);
	/* A copy of the block in unmapped physical memory: its links name the
	 * real list head, whose links name the real block, not the copy. */
	memcpy(v.image + 0x200000, v.image + pa_of(KDBG_VA), 0x290);
	memset(v.image + pa_of(KDBG_VA) + 0x10, 'x', 4);
	assert_int_equal(nm_kdbg_scan(v.k.xlat, &k, &err), -1);
	assert_non_null(strstr(err.why, "candidates"));
	close_view(&v);
}

static void stale_rule(void **state)
{
	struct view v;
	struct nm_walk w;
	struct nm_pfn_entry e;
	struct nm_vmem mem;
	uint32_t value;
	enum nm_page_state st;

	(void)state;
	open_view(&v, true, KDBG_VA);
	nm_kernel_walk(&v.k, AREA_VA + 0x5000, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	nm_kernel_walk(&v.k, STALE_VA + 0x10, &w);
	assert_int_equal(w.state, NM_PAGE_STALE);
	nm_kernel_walk(&v.k, UNOWNED_VA, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	/* A stale page is not read; a valid one is. */
	mem = nm_kernel_vmem(&v.k);
	assert_true(mem.stale_checked);
	assert_int_equal(nm_vmem_u32(&mem, STALE_VA, &value, &st), -1);
	assert_int_equal(st, NM_PAGE_STALE);
	/* The policy is the caller's: kept, the stale frame's bytes are given. */
	assert_int_equal(nm_vmem_read(&mem, STALE_VA, &value, 4, NM_STALE_KEEP, &st), 0);
	assert_int_equal(nm_vmem_u32(&mem, VARS_VA, &value, &st), 0);
	assert_int_equal(value, PFNDB_VA);
	/* The entry itself, and the end of the database. */
	assert_int_equal(nm_pfn_read(&v.k, AREA_PA >> 12, &e), 0);
	assert_int_equal(e.entry_address, PFNDB_VA + (AREA_PA >> 12) * 0x18);
	assert_int_equal(e.pte_address, 0xC0200000);
	assert_true(e.has_va);
	assert_int_equal(e.va, AREA_VA);
	assert_int_equal(e.list, NM_PFN_ACTIVE);
	assert_int_equal(e.reference_count, 1);
	assert_int_equal(nm_pfn_read(&v.k, 0x400, &e), -1);
	assert_true(e.out_of_range);
	close_view(&v);
}

static void empty_module_list_and_pools_without_variables(void **state)
{
	struct view v;
	struct nm_module_list l;
	struct nm_va_map *m = calloc(1, sizeof(*m));
	nm_error err = { { 0 }, { 0 } };

	(void)state;
	open_view(&v, true, KDBG_VA);
	assert_int_equal(nm_modules_read(&v.k, &l, &err), 0);
	assert_int_equal(l.count, 0);
	assert_false(l.incomplete);
	assert_int_equal(nm_va_map_read(&v.k, &l, m, &err), 0);
	nm_modules_free(&l);
	/* Only the two slots this block fills name variables. */
	{
		unsigned present = 0;

		for (unsigned i = 0; i < NM_VAR_COUNT; i++)
			present += m->variables[i].present;
		assert_int_equal(present, 2);
	}
	assert_false(m->incomplete);
	assert_false(m->dynamic_va);
	free(m);
	close_view(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kdbg_from_option_and_version_from_its_size),
		cmocka_unit_test(scan_finds_the_block_through_its_list_links),
		cmocka_unit_test(refused_option_leaves_no_kdbg_and_says_why),
		cmocka_unit_test(scan_rejects_a_copy_that_does_not_map_back),
		cmocka_unit_test(stale_rule),
		cmocka_unit_test(empty_module_list_and_pools_without_variables),
	};
	return cmocka_run_group_tests_name("kernel_view", tests, NULL, NULL);
}
