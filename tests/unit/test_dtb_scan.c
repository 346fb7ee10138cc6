/* The DTB scan (src/mm/dtb_scan.c) over small raw images built here: a
 * non-PAE directory that maps itself, a PAE top directory and the PDPT that
 * names its four directories, and the cases a scan could get wrong: a
 * self-mapping page with no kernel space, a PAE top directory no PDPT names,
 * a PDPT-looking slot with a reserved bit, ranking ties, an empty image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/dtb_scan.h>

#define PAGE 4096u
#define NPAGES 64u

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

/* A non-PAE directory at PFN with KERNEL present kernel-half entries
 * (page tables at frames 40.. inside the image) and its self-map. */
static void nonpae_directory(uint8_t *mem, uint32_t pfn, unsigned kernel)
{
	uint8_t *pd = mem + pfn * PAGE;

	for (unsigned i = 0; i < kernel; i++)
		put32(pd + 4 * (0x200 + i), (40u + i) << 12 | 0x63);
	put32(pd + 4 * 0x300, pfn << 12 | 0x63);
}

/* PAE: four directories at PD..PD+3, directory 3 maps itself and the other
 * three at entries 0..3 (VA 0xC0000000..0xC07FFFFF), plus KERNEL entries in
 * directory 2; the PDPT at PA PDPT when it is not 0. */
static void pae_tables(uint8_t *mem, uint32_t pd, unsigned kernel, uint64_t pdpt)
{
	for (unsigned i = 0; i < 4; i++)
		put64(mem + (pd + 3) * PAGE + 8 * i, (uint64_t)(pd + i) << 12 | 0x63);
	for (unsigned i = 0; i < kernel; i++)
		put64(mem + (pd + 2) * PAGE + 8 * i, (uint64_t)(40 + i) << 12 | 0x63);
	for (unsigned i = 0; pdpt && i < 4; i++)
		put64(mem + pdpt + 8 * i, (uint64_t)(pd + i) << 12 | 1);
}

static int scan(uint8_t *mem, struct nm_dtb_scan *out)
{
	nm_source *src;
	nm_error err;
	int rc;

	assert_int_equal(nm_source_open_buffer(mem, NPAGES * PAGE, true, &src, &err), 0);
	rc = nm_dtb_scan(src, out, &err);
	nm_source_close(src);
	return rc;
}

static void nonpae_directory_is_found_and_ranked(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	struct nm_dtb_scan s;

	(void)state;
	nonpae_directory(mem, 5, 3);
	nonpae_directory(mem, 7, 9);	/* more kernel space: ranked first */
	nonpae_directory(mem, 9, 0);	/* only itself: no kernel space */
	nonpae_directory(mem, 3, 9);	/* ties with 7, lower address first */
	assert_int_equal(scan(mem, &s), 0);
	assert_int_equal(s.candidates, 4);
	assert_int_equal(s.nlisted, 4);
	assert_int_equal(s.listed[0].dtb, 3 * PAGE);
	assert_int_equal(s.listed[0].verdict, NM_DTB_CHOSEN);
	assert_false(s.listed[0].pae);
	assert_int_equal(s.listed[0].kernel_entries, 10);	/* 9 tables and the self-map */
	assert_int_equal(s.listed[1].dtb, 7 * PAGE);
	assert_int_equal(s.listed[1].verdict, NM_DTB_RANKED_BELOW);
	assert_int_equal(s.listed[2].dtb, 5 * PAGE);
	assert_int_equal(s.listed[3].dtb, 9 * PAGE);
	assert_int_equal(s.listed[3].verdict, NM_DTB_NO_KERNEL);
	assert_int_equal(s.pages_scanned, NPAGES);
	free(mem);
}

static void pae_pdpt_is_the_dtb(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	struct nm_dtb_scan s;

	(void)state;
	pae_tables(mem, 10, 6, 30 * PAGE + 0x40);
	assert_int_equal(scan(mem, &s), 0);
	assert_int_equal(s.candidates, 1);
	assert_int_equal(s.listed[0].dtb, 30 * PAGE + 0x40);
	assert_true(s.listed[0].pae);
	assert_int_equal(s.listed[0].verdict, NM_DTB_CHOSEN);
	/* directory 3's four self-map entries and directory 2's six */
	assert_int_equal(s.listed[0].kernel_entries, 10);
	free(mem);
}

static void pae_without_pdpt_is_rejected(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	struct nm_dtb_scan s;
	nm_error err;
	nm_source *src;

	(void)state;
	pae_tables(mem, 10, 6, 0);
	/* A slot that names the directories but sets a reserved PDPTE bit (bit 1). */
	for (unsigned i = 0; i < 4; i++)
		put64(mem + 30 * PAGE + 8 * i, (uint64_t)(10 + i) << 12 | 3);
	assert_int_equal(nm_source_open_buffer(mem, NPAGES * PAGE, true, &src, &err), 0);
	assert_int_equal(nm_dtb_scan(src, &s, &err), -1);
	assert_string_equal(err.what, "dtb");
	assert_non_null(strstr(err.why, "give --dtb"));
	assert_int_equal(s.nlisted, 1);
	assert_int_equal(s.listed[0].verdict, NM_DTB_NO_PDPT);
	nm_source_close(src);
	free(mem);
}

static void both_modes_rank_together(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	struct nm_dtb_scan s;

	(void)state;
	pae_tables(mem, 10, 20, 30 * PAGE);
	nonpae_directory(mem, 5, 2);
	assert_int_equal(scan(mem, &s), 0);
	assert_int_equal(s.candidates, 2);
	assert_true(s.listed[0].pae);
	assert_int_equal(s.listed[0].dtb, 30 * PAGE);
	assert_false(s.listed[1].pae);
	free(mem);
}

static void empty_image_has_no_candidate(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	struct nm_dtb_scan s;

	(void)state;
	assert_int_equal(scan(mem, &s), -1);
	assert_int_equal(s.candidates, 0);
	assert_int_equal(s.nlisted, 0);
	free(mem);
}

static void names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(nm_dtb_source_name(NM_DTB_FROM_HEADER), "header");
	assert_string_equal(nm_dtb_source_name(NM_DTB_FROM_OPTION), "option");
	assert_string_equal(nm_dtb_source_name(NM_DTB_FROM_SCAN), "scan");
	assert_string_equal(nm_dtb_source_name(NM_DTB_FROM_ELF_NOTE), "elf_note");
	assert_string_equal(nm_dtb_reject_name(NM_DTB_CHOSEN), "chosen");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nonpae_directory_is_found_and_ranked),
		cmocka_unit_test(pae_pdpt_is_the_dtb),
		cmocka_unit_test(pae_without_pdpt_is_rejected),
		cmocka_unit_test(both_modes_rank_together),
		cmocka_unit_test(empty_image_has_no_candidate),
		cmocka_unit_test(names_are_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
