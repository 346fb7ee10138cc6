/* PE32 and PE32+ header parsing and the loader's section classification:
 * hand-built headers (good and hostile) and the real drivers in ../shared/real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pe_builder.h"

static const struct tb_section three[] = {
	{ ".text", 0x1000, 0x1800, 0x1800, 0, 0x68000020 },
	{ "PAGE", 0x3000, 0x2000, 0x2000, 0, 0x60000020 },
	{ "INIT", 0x5000, 0x0900, 0x0A00, 0, 0x62000020 },
};

static void build_three(uint8_t *buf)
{
	memset(buf, 0, 4096);
	tb_write_headers(buf, 0x10000, 0x1000, 0x200, 0x6000, three, 3);
}

static void parses_every_field(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_three(buf);
	tb_set_directory(buf, 12, 0x1000, 0x40);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_int_equal(pe.e_lfanew, TB_LFANEW);
	assert_int_equal(pe.machine, 0x14C);
	assert_int_equal(pe.timestamp, 0x45678901u);
	assert_int_equal(pe.entry_rva, 0x1234);
	assert_int_equal(pe.image_base, 0x10000);
	assert_int_equal(pe.section_alignment, 0x1000);
	assert_int_equal(pe.file_alignment, 0x200);
	assert_int_equal(pe.size_of_image, 0x6000);
	assert_int_equal(pe.size_of_headers, 0x400);
	assert_int_equal(pe.number_of_rva_and_sizes, 16);
	assert_int_equal(pe.dir_rva[12], 0x1000);
	assert_int_equal(pe.dir_size[12], 0x40);
	assert_int_equal(pe.section_table_offset, TB_SECTIONS);
	assert_int_equal(pe.nsections, 3);
	assert_string_equal(pe.sections[1].name, "PAGE");
	assert_int_equal(pe.sections[1].virtual_address, 0x3000);
	assert_int_equal(pe.sections[1].virtual_size, 0x2000);
	assert_int_equal(pe.sections[2].raw_size, 0xA00);
	assert_int_equal(pe.sections[2].characteristics, 0x62000020);
	assert_int_equal(pe.sections[0].kind, NM_SECTION_NONPAGED);
	assert_int_equal(pe.sections[1].kind, NM_SECTION_PAGEABLE);
	assert_int_equal(pe.sections[2].kind, NM_SECTION_DISCARDABLE);
}

static enum nm_section_kind kind_of(const char *name, uint32_t ch)
{
	struct nm_pe_section s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.characteristics = ch;
	return nm_pe_classify(&s);
}

static void classifies_like_the_loader(void **state)
{
	(void)state;
	assert_int_equal(kind_of("INIT", 0x60000020), NM_SECTION_DISCARDABLE);
	assert_int_equal(kind_of(".reloc", 0x42000040), NM_SECTION_DISCARDABLE);
	assert_int_equal(kind_of("PAGE", 0x62000020), NM_SECTION_DISCARDABLE);
	assert_int_equal(kind_of("PAGE", 0x60000020), NM_SECTION_PAGEABLE);
	assert_int_equal(kind_of("PAGELK", 0x60000020), NM_SECTION_PAGEABLE);
	assert_int_equal(kind_of("PAGEVRFY", 0x60000020), NM_SECTION_PAGEABLE);
	assert_int_equal(kind_of(".edata", 0x40000040), NM_SECTION_PAGEABLE);
	assert_int_equal(kind_of(".text", 0x68000020), NM_SECTION_NONPAGED);
	assert_int_equal(kind_of(".data", 0xC8000040), NM_SECTION_NONPAGED);
	assert_int_equal(kind_of("page", 0x60000020), NM_SECTION_NONPAGED);
	assert_int_equal(kind_of("INITDATA", 0x40000040), NM_SECTION_NONPAGED);
	assert_string_equal(nm_section_kind_name(NM_SECTION_DISCARDABLE), "discardable");
	assert_string_equal(nm_section_kind_name(NM_SECTION_PAGEABLE), "pageable");
	assert_string_equal(nm_section_kind_name(NM_SECTION_NONPAGED), "nonpaged");
}

static void finds_the_section_of_an_rva(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_three(buf);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_null(nm_pe_section_at(&pe, 0));
	assert_string_equal(nm_pe_section_at(&pe, 0x1000)->name, ".text");
	assert_string_equal(nm_pe_section_at(&pe, 0x27FF)->name, ".text");
	/* VirtualSize 0x1800 rounded up to SectionAlignment 0x1000 */
	assert_string_equal(nm_pe_section_at(&pe, 0x2FFF)->name, ".text");
	assert_string_equal(nm_pe_section_at(&pe, 0x3000)->name, "PAGE");
	assert_string_equal(nm_pe_section_at(&pe, 0x5FFF)->name, "INIT");
	assert_null(nm_pe_section_at(&pe, 0x6000));
	assert_int_equal(nm_pe_section_index_at(&pe, 0x3000), 1);
	assert_int_equal(nm_pe_section_span(&pe.sections[2]), 0x900);
}

static void expect_refused(const uint8_t *buf, size_t len, const char *what)
{
	struct nm_pe_image pe;
	nm_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(nm_pe_parse(buf, len, &pe, &err), -1);
	if (strstr(err.what, what) == NULL)
		fail_msg("expected '%s' in what, got '%s' (%s)", what, err.what, err.why);
}

static void refuses_hostile_headers(void **state)
{
	uint8_t buf[4096];

	(void)state;
	build_three(buf);
	expect_refused(buf, 0x20, "dos_header");
	buf[0] = 'X';
	expect_refused(buf, sizeof(buf), "e_magic");
	build_three(buf);
	tb_put32(buf + 0x3C, 0xFFFFFFF0u);
	expect_refused(buf, sizeof(buf), "e_lfanew");
	tb_put32(buf + 0x3C, 4096 - 8);
	expect_refused(buf, sizeof(buf), "e_lfanew");
	build_three(buf);
	buf[TB_LFANEW + 1] = 'X';
	expect_refused(buf, sizeof(buf), "Signature");
	build_three(buf);
	tb_put16(buf + TB_LFANEW + 6, 97);
	expect_refused(buf, sizeof(buf), "NumberOfSections");
	tb_put16(buf + TB_LFANEW + 6, 96);	/* 96 headers do not fit in the page */
	expect_refused(buf, sizeof(buf), "NumberOfSections");
	build_three(buf);
	tb_put16(buf + TB_LFANEW + 20, 0x10);
	expect_refused(buf, sizeof(buf), "SizeOfOptionalHeader");
	tb_put16(buf + TB_LFANEW + 20, 0xFFFF);
	expect_refused(buf, sizeof(buf), "SizeOfOptionalHeader");
	build_three(buf);
	tb_put16(buf + TB_OPT, 0x107);		/* ROM image: neither PE32 nor PE32+ */
	expect_refused(buf, sizeof(buf), "Magic");
	build_three(buf);
	tb_put32(buf + TB_OPT + 0x20, 0x1001);
	expect_refused(buf, sizeof(buf), "SectionAlignment");
	build_three(buf);
	tb_put32(buf + TB_OPT + 0x38, 0);
	expect_refused(buf, sizeof(buf), "SizeOfImage");
	build_three(buf);
	tb_put32(buf + TB_SECTIONS + 40 * 2 + 12, 0x6000);	/* INIT starts at SizeOfImage */
	expect_refused(buf, sizeof(buf), "section");
	build_three(buf);
	tb_put32(buf + TB_SECTIONS + 40 * 2 + 12, 0xFFFFF000u);	/* va + size wraps */
	tb_put32(buf + TB_SECTIONS + 40 * 2 + 8, 0x2000);
	expect_refused(buf, sizeof(buf), "section");
	build_three(buf);
	expect_refused(buf, TB_SECTIONS + 40 * 2, "NumberOfSections");
}

static void replaces_unprintable_name_bytes(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_three(buf);
	memcpy(buf + TB_SECTIONS, "\x01\"ab\xff\n/x", 8);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_string_equal(pe.sections[0].name, "_\"ab__/x");
}

static void only_the_data_directories_present_are_read(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_three(buf);
	tb_set_directory(buf, 5, 0x5000, 0x100);
	tb_put32(buf + TB_OPT + 0x5C, 5);	/* slots 0..4 only */
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_int_equal(pe.dir_rva[5], 0);
	tb_put32(buf + TB_OPT + 0x5C, 0xFFFFFFFFu);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_int_equal(pe.dir_rva[5], 0x5000);
}

/* A PE32+ image: every field read from its PE32+ place, none from the PE32
 * one (the PE32 ImageBase slot +0x1C holds the high half of the 64-bit
 * ImageBase here, and +0x5C/+0x60 hold stack/heap sizes). */
static const struct tb_section x64_sections[] = {
	{ ".text", 0x1000, 0x20, 0x200, 0x400, 0x60000020 },
	{ "PAGE", 0x2000, 0x68, 0x200, 0x600, 0x60000020 },
	{ "INIT", 0x3000, 0x30, 0x200, 0x800, 0x62000020 },
	{ ".reloc", 0x4000, 0x0C, 0x200, 0xA00, 0x42000040 },
};

static void build_x64(uint8_t *buf)
{
	memset(buf, 0, 4096);
	tb_write_headers64(buf, 0xFFFFF88001000000ull, 0x1000, 0x200, 0x5000, x64_sections, 4);
	tb_set_directory64(buf, 5, 0x4000, 0x0C);
	tb_set_directory64(buf, 12, 0x1010, 0x10);
}

static void parses_pe32plus_fields(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_x64(buf);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_true(pe.pe32plus);
	assert_int_equal(pe.magic, 0x20B);
	assert_int_equal(pe.machine, 0x8664);
	assert_int_equal(pe.timestamp, 0x5A5A1234u);
	assert_int_equal(pe.entry_rva, 0x2345);
	assert_true(pe.image_base == 0xFFFFF88001000000ull);
	assert_int_equal(pe.section_alignment, 0x1000);
	assert_int_equal(pe.file_alignment, 0x200);
	assert_int_equal(pe.size_of_image, 0x5000);
	assert_int_equal(pe.size_of_headers, 0x400);
	assert_int_equal(pe.subsystem, 1);
	assert_int_equal(pe.dll_characteristics, 0x0160);
	assert_true(pe.stack_reserve == 0x0000000100080000ull);
	assert_int_equal(pe.stack_commit, 0x2000);
	assert_true(pe.heap_reserve == 0x0000000200100000ull);
	assert_int_equal(pe.heap_commit, 0x1000);
	assert_int_equal(pe.number_of_rva_and_sizes, 16);
	assert_int_equal(pe.data_directory_offset, 0x70);
	assert_int_equal(pe.dir_rva[5], 0x4000);
	assert_int_equal(pe.dir_size[5], 0x0C);
	assert_int_equal(pe.dir_rva[12], 0x1010);
	assert_int_equal(pe.dir_size[12], 0x10);
	assert_int_equal(pe.section_table_offset, TB_SECTIONS64);
	assert_int_equal(pe.nsections, 4);
	assert_string_equal(pe.sections[2].name, "INIT");
	assert_int_equal(pe.sections[2].kind, NM_SECTION_DISCARDABLE);
	assert_int_equal(pe.sections[1].kind, NM_SECTION_PAGEABLE);
	assert_int_equal(pe.sections[3].kind, NM_SECTION_DISCARDABLE);
	assert_int_equal(nm_pe_image_base_offset(&pe), 0x18);
}

static void pe32_fields_stay_at_pe32_offsets(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	build_three(buf);
	tb_put32(buf + TB_OPT + 0x18, 0x7777);		/* BaseOfData: not part of ImageBase */
	tb_put32(buf + TB_OPT + 0x48, 0x40000);		/* SizeOfStackReserve, 4 bytes */
	tb_put32(buf + TB_OPT + 0x4C, 0x1000);		/* SizeOfStackCommit */
	tb_set_directory(buf, 5, 0x5000, 0x20);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_false(pe.pe32plus);
	assert_int_equal(pe.magic, 0x10B);
	assert_true(pe.image_base == 0x10000);
	assert_int_equal(pe.stack_reserve, 0x40000);
	assert_int_equal(pe.stack_commit, 0x1000);
	assert_int_equal(pe.data_directory_offset, 0x60);
	assert_int_equal(pe.dir_rva[5], 0x5000);
	assert_int_equal(nm_pe_image_base_offset(&pe), 0x1C);
}

static void pe32plus_optional_header_must_reach_the_directories(void **state)
{
	uint8_t buf[4096];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	/* 0x6F: one byte short of the PE32+ fields (0x60 would do for PE32) */
	build_x64(buf);
	tb_put16(buf + TB_LFANEW + 20, 0x6F);
	expect_refused(buf, sizeof(buf), "SizeOfOptionalHeader");
	tb_put16(buf + TB_LFANEW + 20, 0x60);
	expect_refused(buf, sizeof(buf), "SizeOfOptionalHeader");
	/* exactly 0x70: every field, no directory room: none is read, and the
	 * section table follows at +0x70 */
	build_x64(buf);
	tb_put16(buf + TB_LFANEW + 20, 0x70);
	memmove(buf + TB_OPT + 0x70, buf + TB_SECTIONS64, 40 * 4);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_int_equal(pe.dir_rva[5], 0);
	assert_int_equal(pe.section_table_offset, TB_OPT + 0x70);
	assert_string_equal(pe.sections[3].name, ".reloc");
	/* NumberOfRvaAndSizes at its PE32+ place (+0x6C) limits the slots */
	build_x64(buf);
	tb_put32(buf + TB_OPT + 0x6C, 5);
	assert_int_equal(nm_pe_parse(buf, sizeof(buf), &pe, &err), 0);
	assert_int_equal(pe.dir_rva[5], 0);
	assert_int_equal(pe.dir_rva[4], 0);
	/* a truncated buffer: the optional header runs past it */
	build_x64(buf);
	expect_refused(buf, TB_OPT + 0x40, "SizeOfOptionalHeader");
}

static void survives_pe32plus_corruption(void **state)
{
	uint8_t buf[4096], copy[4096];
	struct nm_pe_image pe;
	nm_error err;
	uint32_t seed = 0x2545F491u;

	(void)state;
	build_x64(buf);
	for (unsigned round = 0; round < 20000; round++) {
		memcpy(copy, buf, sizeof(copy));
		for (unsigned k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[TB_LFANEW + (seed >> 8) % (TB_SECTIONS64 + 160 - TB_LFANEW)] = (uint8_t)(seed >> 24);
		}
		seed = seed * 1103515245u + 12345u;
		(void)nm_pe_parse(copy, 0x100 + (seed >> 8) % (sizeof(copy) - 0x100), &pe, &err);
	}
}

struct real_section {
	const char *name;
	uint32_t va;
	enum nm_section_kind kind;
};

static void check_real(const char *file, uint32_t align, const struct real_section *want, unsigned n)
{
	size_t len = 0;
	uint8_t *buf = tb_read_file(file, &len);
	struct nm_pe_image pe;
	nm_error err;

	if (!buf) {
		printf("SKIP: %s is absent (../shared/real not available)\n", file);
		skip();
	}
	if (nm_pe_parse(buf, len, &pe, &err) != 0)
		fail_msg("%s: %s: %s", file, err.what, err.why);
	assert_int_equal(pe.machine, 0x14C);
	assert_int_equal(pe.section_alignment, align);
	assert_int_equal(pe.nsections, n);
	for (unsigned i = 0; i < n; i++) {
		assert_string_equal(pe.sections[i].name, want[i].name);
		assert_int_equal(pe.sections[i].virtual_address, want[i].va);
		assert_int_equal(pe.sections[i].kind, want[i].kind);
	}
	free(buf);
}

static void parses_real_kprocesshacker(void **state)
{
	static const struct real_section want[] = {
		{ ".text", 0x1000, NM_SECTION_NONPAGED }, { ".rdata", 0x2000, NM_SECTION_NONPAGED },
		{ ".data", 0x3000, NM_SECTION_NONPAGED }, { "PAGE", 0x4000, NM_SECTION_PAGEABLE },
		{ "INIT", 0x7000, NM_SECTION_DISCARDABLE }, { ".rsrc", 0x8000, NM_SECTION_DISCARDABLE },
		{ ".reloc", 0x9000, NM_SECTION_DISCARDABLE },
	};

	(void)state;
	check_real(TB_REAL_DRIVERS "kprocesshacker_i386_3.1.sys", 0x1000, want, 7);
}

static void parses_real_npf_packed_at_0x80(void **state)
{
	static const struct real_section want[] = {
		{ ".text", 0x480, NM_SECTION_NONPAGED }, { ".rdata", 0x5480, NM_SECTION_NONPAGED },
		{ ".data", 0x5900, NM_SECTION_NONPAGED }, { "INIT", 0x5F00, NM_SECTION_DISCARDABLE },
		{ ".rsrc", 0x6680, NM_SECTION_DISCARDABLE }, { ".reloc", 0x6B80, NM_SECTION_DISCARDABLE },
	};

	(void)state;
	check_real(TB_REAL_DRIVERS "npf_x86_4.1.0.2980.sys", 0x80, want, 6);
}

static void parses_real_winpmem(void **state)
{
	static const struct real_section want[] = {
		{ ".text", 0x1000, NM_SECTION_NONPAGED }, { ".rdata", 0x2000, NM_SECTION_NONPAGED },
		{ ".data", 0x3000, NM_SECTION_NONPAGED }, { "PAGE", 0x7000, NM_SECTION_PAGEABLE },
		{ "INIT", 0xA000, NM_SECTION_DISCARDABLE }, { ".reloc", 0xB000, NM_SECTION_DISCARDABLE },
	};

	(void)state;
	check_real(TB_REAL_DRIVERS "winpmem_x86_2.0.sys", 0x1000, want, 6);
}

/* Every prefix of a real header, and every single-byte corruption of it,
 * is either parsed or refused: never read out of bounds (ASan run). */
static void survives_truncation_and_corruption(void **state)
{
	size_t len = 0;
	uint8_t *buf = tb_read_file(TB_REAL_DRIVERS "npf_x86_4.1.0.2980.sys", &len);
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	if (!buf) {
		printf("SKIP: npf driver absent (../shared/real not available)\n");
		skip();
	}
	for (size_t n = 0; n <= 0x400 && n <= len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		(void)nm_pe_parse(copy, n, &pe, &err);
		free(copy);
	}
	for (size_t i = 0; i < 0x400 && i < len; i++) {
		uint8_t saved = buf[i];

		buf[i] = 0xFF;
		(void)nm_pe_parse(buf, 0x400, &pe, &err);
		buf[i] = saved;
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_field),
		cmocka_unit_test(parses_pe32plus_fields),
		cmocka_unit_test(pe32_fields_stay_at_pe32_offsets),
		cmocka_unit_test(pe32plus_optional_header_must_reach_the_directories),
		cmocka_unit_test(survives_pe32plus_corruption),
		cmocka_unit_test(classifies_like_the_loader),
		cmocka_unit_test(finds_the_section_of_an_rva),
		cmocka_unit_test(refuses_hostile_headers),
		cmocka_unit_test(replaces_unprintable_name_bytes),
		cmocka_unit_test(only_the_data_directories_present_are_read),
		cmocka_unit_test(parses_real_kprocesshacker),
		cmocka_unit_test(parses_real_npf_packed_at_0x80),
		cmocka_unit_test(parses_real_winpmem),
		cmocka_unit_test(survives_truncation_and_corruption),
	};
	return cmocka_run_group_tests_name("pe", tests, NULL, NULL);
}
