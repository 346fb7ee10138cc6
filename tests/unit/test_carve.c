/* The page-by-page carver over a fake page source: page states, the section
 * of each page, hole reasons, merged holes and per-byte accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/carve_files.h>
#include <ntmem/reloc.h>

#include "pe_builder.h"

#define BASE 0xF7E8B000u

static uint8_t image[7 * 4096];

static const struct tb_section sections[] = {
	{ ".text", 0x1000, 0x1800, 0x1800, 0, 0x68000020 },
	{ "PAGE", 0x3000, 0x2000, 0x2000, 0, 0x60000020 },
	{ "INIT", 0x5000, 0x0900, 0x0A00, 0, 0x62000020 },
	{ ".data", 0x6000, 0x0800, 0x0800, 0, 0xC8000040 },
};

static void build_image(void)
{
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + 1);
	memset(image, 0, 4096);
	tb_write_headers(image, 0x10000, 0x1000, 0x200, sizeof(image), sections, 4);
}

static struct tb_fake_page pages[7];
static struct tb_fake fake = { BASE, 7, pages, 0 };

static void set_page(unsigned i, enum nm_page_state st, bool with_bytes)
{
	pages[i].state = st;
	pages[i].bytes = with_bytes ? image + i * 4096 : NULL;
	pages[i].proto_resolved = false;
}

static void all_valid(void)
{
	build_image();
	for (unsigned i = 0; i < 7; i++)
		set_page(i, NM_PAGE_VALID, true);
	fake.walks = 0;
}

static void carve(struct nm_carve *c, bool keep_stale)
{
	struct nm_vmem r = tb_reader(&fake);
	struct nm_carve_options opt = { keep_stale };
	nm_error err;

	if (nm_carve_image(&r, BASE, sizeof(image), &opt, c, &err) != 0)
		fail_msg("%s: %s", err.what, err.why);
}

static void every_page_valid_is_fully_recovered(void **state)
{
	struct nm_carve c;

	(void)state;
	all_valid();
	carve(&c, false);
	assert_int_equal(fake.walks, 7);
	assert_int_equal(c.npages, 7);
	assert_int_equal(c.headers, NM_HEADERS_OK);
	assert_int_equal(c.pe.nsections, 4);
	assert_int_equal(c.state_count[NM_PAGE_VALID], 7);
	assert_int_equal(c.total.recovered, sizeof(image));
	assert_int_equal(c.total.missing, 0);
	assert_int_equal(c.sections[0].recovered, 0x1800);
	assert_int_equal(c.sections[2].recovered, 0x900);
	assert_int_equal(c.kinds[NM_SECTION_NONPAGED].recovered, 0x2000);
	assert_int_equal(c.kinds[NM_SECTION_PAGEABLE].recovered, 0x2000);
	assert_int_equal(c.outside.recovered, sizeof(image) - 0x4900);
	for (unsigned i = 0; i < 7; i++) {
		assert_ptr_equal(c.pages[i].bytes, image + i * 4096);
		assert_int_equal(c.pages[i].reason, NM_REASON_NONE);
	}
	assert_int_equal(c.pages[0].section, -1);
	assert_int_equal(c.pages[2].section, 0);	/* .text covers 0x2000 */
	assert_int_equal(c.pages[4].section, 1);
	nm_carve_free(&c);
}

static int collect_hole(void *ctx, const struct nm_carve_hole *h)
{
	struct nm_carve_hole *holes = ctx;
	unsigned i = 0;

	while (holes[i].rva_end)
		i++;
	holes[i] = *h;
	return 0;
}

static void holes_have_reasons_and_merge(void **state)
{
	struct nm_carve c;
	struct nm_carve_hole holes[8];

	(void)state;
	all_valid();
	set_page(2, NM_PAGE_TRANSITION, true);
	set_page(3, NM_PAGE_PAGEFILE, false);
	set_page(4, NM_PAGE_PAGEFILE, false);
	set_page(5, NM_PAGE_NOT_MAPPED, false);
	set_page(6, NM_PAGE_NOT_IN_DUMP, false);
	carve(&c, false);
	assert_int_equal(c.pages[2].reason, NM_REASON_NONE);
	assert_int_equal(c.pages[3].reason, NM_REASON_PAGED_OUT);
	assert_int_equal(c.pages[3].pagefile_number, 1);
	assert_int_equal(c.pages[3].pagefile_offset, 0x8000);
	assert_int_equal(c.pages[5].reason, NM_REASON_DISCARDED);
	assert_int_equal(c.pages[6].reason, NM_REASON_NOT_IN_DUMP);
	assert_int_equal(c.state_count[NM_PAGE_VALID], 2);
	assert_int_equal(c.state_count[NM_PAGE_TRANSITION], 1);
	assert_int_equal(c.state_count[NM_PAGE_PAGEFILE], 2);
	assert_int_equal(c.sections[1].missing, 0x2000);
	assert_int_equal(c.sections[2].missing, 0x900);
	assert_int_equal(c.sections[3].missing, 0x800);
	assert_int_equal(c.kinds[NM_SECTION_DISCARDABLE].missing, 0x900);
	assert_int_equal(c.total.missing, 3 * 4096 + 4096);
	memset(holes, 0, sizeof(holes));
	nm_carve_for_each_hole(&c, collect_hole, holes);
	assert_int_equal(holes[0].rva_start, 0x3000);
	assert_int_equal(holes[0].rva_end, 0x5000);
	assert_int_equal(holes[0].reason, NM_REASON_PAGED_OUT);
	assert_int_equal(holes[0].section, 1);
	assert_int_equal(holes[1].rva_start, 0x5000);
	assert_int_equal(holes[1].rva_end, 0x6000);
	assert_string_equal(nm_hole_reason_name(holes[1].reason), "discarded");
	assert_int_equal(holes[2].rva_start, 0x6000);
	assert_int_equal(holes[2].rva_end, 0x7000);
	assert_int_equal(holes[3].rva_end, 0);
	nm_carve_free(&c);
}

static void not_mapped_outside_discardable_is_not_mapped(void **state)
{
	struct nm_carve c;

	(void)state;
	all_valid();
	set_page(1, NM_PAGE_NOT_MAPPED, false);
	carve(&c, false);
	assert_string_equal(nm_hole_reason_name(c.pages[1].reason), "not_mapped");
	nm_carve_free(&c);
}

static void missing_header_page_means_no_sections(void **state)
{
	struct nm_carve c;

	(void)state;
	all_valid();
	set_page(0, NM_PAGE_PAGEFILE, false);
	set_page(5, NM_PAGE_NOT_MAPPED, false);
	carve(&c, false);
	assert_int_equal(c.headers, NM_HEADERS_MISSING);
	assert_int_equal(c.pe.nsections, 0);
	assert_string_equal(nm_hole_reason_name(c.pages[0].reason), "headers_missing");
	/* without sections, a freed INIT page cannot be told from any other */
	assert_string_equal(nm_hole_reason_name(c.pages[5].reason), "not_mapped");
	assert_int_equal(c.pages[3].section, -1);
	assert_int_equal(c.outside.missing, 2 * 4096);
	nm_carve_free(&c);
}

static void garbage_header_page_is_invalid(void **state)
{
	struct nm_carve c;

	(void)state;
	all_valid();
	image[0] = 'Z';
	carve(&c, false);
	assert_int_equal(c.headers, NM_HEADERS_INVALID);
	assert_string_equal(c.header_error.what, "pe.e_magic");
	assert_int_equal(c.pages[0].reason, NM_REASON_NONE);
	nm_carve_free(&c);
}

static void stale_pages_are_holes_unless_kept(void **state)
{
	struct nm_carve c;

	(void)state;
	all_valid();
	set_page(1, NM_PAGE_STALE, true);
	carve(&c, false);
	assert_null(c.pages[1].bytes);
	assert_string_equal(nm_hole_reason_name(c.pages[1].reason), "stale");
	assert_int_equal(c.sections[0].missing, 0x1000);
	nm_carve_free(&c);
	carve(&c, true);
	assert_ptr_equal(c.pages[1].bytes, image + 4096);
	assert_string_equal(nm_hole_reason_name(c.pages[1].reason), "stale");
	assert_int_equal(c.sections[0].missing, 0x1000);
	nm_carve_free(&c);
}

static void demand_zero_and_prototypes(void **state)
{
	struct nm_carve c;
	static const uint8_t zero[4096];

	(void)state;
	all_valid();
	pages[1].state = NM_PAGE_DEMAND_ZERO;
	pages[1].bytes = zero;
	set_page(3, NM_PAGE_PROTOTYPE, true);
	pages[3].proto_resolved = true;
	pages[3].proto_state = NM_PAGE_TRANSITION;
	set_page(4, NM_PAGE_PROTOTYPE, false);
	carve(&c, false);
	assert_int_equal(c.pages[1].reason, NM_REASON_NONE);
	assert_ptr_equal(c.pages[1].bytes, zero);
	assert_int_equal(c.pages[3].reason, NM_REASON_NONE);
	assert_string_equal(nm_hole_reason_name(c.pages[4].reason), "prototype");
	assert_int_equal(c.state_count[NM_PAGE_PROTOTYPE], 2);
	nm_carve_free(&c);
}

/* A page whose bytes are all zero (data or demand-zero) is not written but
 * reads back as zeros; a hole is still the fill byte. */
static void pages_of_zeros_are_left_sparse(void **state)
{
	static const uint8_t zero[4096];
	char path[] = "/tmp/ntmem-sparse-XXXXXX";
	uint8_t back[7 * 4096];
	struct nm_carve c;
	struct stat st;
	nm_error err;
	int fd;

	(void)state;
	all_valid();
	memset(image + 6 * 4096, 0, 4096);
	pages[1].state = NM_PAGE_DEMAND_ZERO;
	pages[1].bytes = zero;
	set_page(4, NM_PAGE_NOT_MAPPED, false);
	carve(&c, false);
	assert_true(c.pages[1].zeros);
	assert_true(c.pages[6].zeros);
	assert_false(c.pages[4].zeros);
	assert_false(c.pages[0].zeros);
	assert_false(c.pages[2].zeros);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(nm_carve_write_image(fd, &c, 0xCC, NULL, 0, &err), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), (ssize_t)sizeof(back));
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, sizeof(image));
	assert_true((uint64_t)st.st_blocks * 512 <= sizeof(image) - 2 * 4096);
	close(fd);
	for (unsigned i = 0; i < 7; i++) {
		const uint8_t *want = i == 1 || i == 6 ? zero : image + i * 4096;

		if (i == 4) {
			for (unsigned b = 0; b < 4096; b++)
				assert_int_equal(back[i * 4096 + b], 0xCC);
		} else {
			assert_memory_equal(back + i * 4096, want, 4096);
		}
	}
	nm_carve_free(&c);
}

static void refuses_impossible_sizes(void **state)
{
	struct nm_vmem r;
	struct nm_carve c;
	nm_error err;

	(void)state;
	all_valid();
	r = tb_reader(&fake);
	assert_int_equal(nm_carve_image(&r, BASE, 0, NULL, &c, &err), -1);
	assert_int_equal(nm_carve_image(&r, BASE, 0xFFFFFFFFu, NULL, &c, &err), -1);
	assert_non_null(strstr(err.why, "256 MiB"));
	assert_int_equal(nm_carve_image(&r, BASE, NM_CARVE_MAX_IMAGE + 1, NULL, &c, &err), -1);
	assert_int_equal(nm_carve_image(&r, 0xFFFFF000u, 0x2000, NULL, &c, &err), -1);
	assert_int_equal(fake.walks, 0);
	assert_int_equal(nm_carve_image(&r, 0xFFFFF000u, 0x1000, NULL, &c, &err), 0);
	nm_carve_free(&c);
}

/* A PE32+ image at an x64 kernel address: the carve walks the 64-bit VAs,
 * parses the PE32+ headers and keeps the base whole. */
static void carves_pe32plus_at_a_64_bit_base(void **state)
{
	static uint8_t img[5 * 4096];
	static const struct tb_section s[] = {
		{ ".text", 0x1000, 0x20, 0x200, 0, 0x60000020 },
		{ "PAGE", 0x2000, 0x68, 0x200, 0, 0x60000020 },
		{ "INIT", 0x3000, 0x30, 0x200, 0, 0x62000020 },
		{ ".data", 0x4000, 0x100, 0x200, 0, 0xC0000040 },
	};
	struct tb_fake_page p[5];
	struct tb_fake f = { 0xFFFFF88001000000ull, 5, p, 0 };
	struct nm_vmem r = tb_reader64(&f);
	struct nm_carve c;
	nm_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 5 + 3);
	memset(img, 0, 4096);
	tb_write_headers64(img, 0x140000000ull, 0x1000, 0x200, sizeof(img), s, 4);
	for (unsigned i = 0; i < 5; i++)
		p[i] = (struct tb_fake_page){ NM_PAGE_VALID, img + i * 4096, false, NM_PAGE_VALID };
	p[2] = (struct tb_fake_page){ NM_PAGE_PAGEFILE, NULL, false, NM_PAGE_VALID };
	p[3] = (struct tb_fake_page){ NM_PAGE_NOT_MAPPED, NULL, false, NM_PAGE_VALID };
	assert_int_equal(nm_carve_image(&r, f.base, sizeof(img), NULL, &c, &err), 0);
	assert_int_equal(f.walks, 5);
	assert_true(c.base == 0xFFFFF88001000000ull);
	assert_true(c.wide);
	assert_int_equal(c.headers, NM_HEADERS_OK);
	assert_true(c.pe.pe32plus);
	assert_int_equal(c.pe.nsections, 4);
	assert_int_equal(c.pages[2].reason, NM_REASON_PAGED_OUT);
	assert_int_equal(c.pages[3].reason, NM_REASON_DISCARDED);
	assert_int_equal(c.pages[4].reason, NM_REASON_NONE);
	assert_int_equal(c.kinds[NM_SECTION_DISCARDABLE].missing, 0x30);
	assert_int_equal(c.kinds[NM_SECTION_PAGEABLE].missing, 0x68);
	nm_carve_free(&c);
}

static void refuses_extents_past_the_address_space(void **state)
{
	struct tb_fake_page p[1] = { { NM_PAGE_NOT_MAPPED, NULL, false, NM_PAGE_VALID } };
	struct tb_fake f = { 0, 1, p, 0 };
	struct nm_vmem r64 = tb_reader64(&f), r32 = tb_reader(&f);
	struct nm_carve c;
	nm_error err;

	(void)state;
	assert_int_equal(nm_carve_image(&r64, 0xFFFFFFFFFFFFF000ull, 0x2000, NULL, &c, &err), -1);
	assert_non_null(strstr(err.why, "end of the address space"));
	assert_int_equal(nm_carve_image(&r64, 0xFFFFFFFFFFFFF000ull, 0x1000, NULL, &c, &err), 0);
	nm_carve_free(&c);
	/* a 32-bit kernel has no VA at or above 4 GiB */
	assert_int_equal(nm_carve_image(&r32, 0x100000000ull, 0x1000, NULL, &c, &err), -1);
	assert_non_null(strstr(err.why, "4 GiB"));
	assert_int_equal(f.walks, 1);
}

static void partial_last_page(void **state)
{
	struct nm_vmem r;
	struct nm_carve c;
	nm_error err;

	(void)state;
	all_valid();
	set_page(6, NM_PAGE_NOT_IN_DUMP, false);
	r = tb_reader(&fake);
	assert_int_equal(nm_carve_image(&r, BASE, 0x6100, NULL, &c, &err), 0);
	assert_int_equal(c.npages, 7);
	assert_int_equal(nm_carve_page_len(&c, 6), 0x100);
	assert_int_equal(c.total.missing, 0x100);
	assert_int_equal(c.sections[3].missing, 0x100);	/* .data clipped to the image */
	nm_carve_free(&c);
}

/* npf.sys packs sections at 0x80: one page holds several, so the map is per
 * page (section at the page start) and the accounting per byte. */
static void packed_sections_share_pages(void **state)
{
	size_t len = 0;
	uint8_t *file = tb_read_file(TB_REAL_DRIVERS "npf_x86_4.1.0.2980.sys", &len);
	struct nm_loaded_file lf;
	struct tb_fake_page fp[7];
	struct tb_fake f = { BASE, 7, fp, 0 };
	struct nm_vmem r = tb_reader(&f);
	struct nm_carve c;
	nm_error err;

	(void)state;
	if (!file) {
		printf("SKIP: npf driver absent (../shared/real not available)\n");
		skip();
	}
	assert_int_equal(nm_pe_load_file(file, len, BASE, &lf, &err), 0);
	for (unsigned i = 0; i < 7; i++) {
		fp[i].state = NM_PAGE_VALID;
		fp[i].bytes = lf.image + i * 4096;
		fp[i].proto_resolved = false;
	}
	fp[6].state = NM_PAGE_NOT_MAPPED;	/* 0x6000: INIT's tail, .rsrc, .reloc */
	fp[6].bytes = NULL;
	assert_int_equal(nm_carve_image(&r, BASE, lf.size, NULL, &c, &err), 0);
	assert_int_equal(c.pages[0].section, -1);	/* headers; .text starts at 0x480 */
	assert_string_equal(c.pe.sections[c.pages[5].section].name, ".text");
	assert_string_equal(c.pe.sections[c.pages[6].section].name, "INIT");
	assert_string_equal(nm_hole_reason_name(c.pages[6].reason), "discarded");
	/* INIT [0x5F00, 0x662E): 0x100 bytes on page 5, 0x62E on page 6 */
	assert_int_equal(c.sections[3].recovered, 0x100);
	assert_int_equal(c.sections[3].missing, 0x62E);
	assert_int_equal(c.sections[1].recovered, 0x404);	/* .rdata on page 5 */
	assert_int_equal(c.sections[5].missing, 0x414);	/* .reloc on page 6 */
	assert_int_equal(c.total.missing, 0x1000);
	nm_carve_free(&c);
	nm_loaded_file_free(&lf);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_page_valid_is_fully_recovered),
		cmocka_unit_test(holes_have_reasons_and_merge),
		cmocka_unit_test(not_mapped_outside_discardable_is_not_mapped),
		cmocka_unit_test(missing_header_page_means_no_sections),
		cmocka_unit_test(garbage_header_page_is_invalid),
		cmocka_unit_test(stale_pages_are_holes_unless_kept),
		cmocka_unit_test(demand_zero_and_prototypes),
		cmocka_unit_test(pages_of_zeros_are_left_sparse),
		cmocka_unit_test(refuses_impossible_sizes),
		cmocka_unit_test(partial_last_page),
		cmocka_unit_test(carves_pe32plus_at_a_64_bit_base),
		cmocka_unit_test(refuses_extents_past_the_address_space),
		cmocka_unit_test(packed_sections_share_pages),
	};
	return cmocka_run_group_tests_name("carve", tests, NULL, NULL);
}
