/* Finding an export by name in an image in memory: the binary search of
 * the sorted name table, and every way a hostile or paged-out table is
 * refused. The export directory is written here from the PE/COFF field
 * offsets (IMAGE_EXPORT_DIRECTORY: NumberOfFunctions 0x14, NumberOfNames
 * 0x18, AddressOfFunctions 0x1C, AddressOfNames 0x20, AddressOfNameOrdinals
 * 0x24), not from ntmem's constants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/pe_exports.h>

#include "pe_builder.h"

#define BASE 0x80400000u
#define NPAGES 4
#define DIR_RVA 0x1000u
#define FUNCS (DIR_RVA + 0x40)
#define NAMES (DIR_RVA + 0x80)
#define ORDS (DIR_RVA + 0xC0)
#define STRINGS 0x2000u

static uint8_t image[NPAGES * 4096];
static struct tb_fake_page pages[NPAGES];
static struct tb_fake fake = { BASE, NPAGES, pages, 0 };

/* Sorted by byte value, as the loader searches them; export i is ordinal
 * index 4 - i (names and functions not in step), function RVA 0x3000 + 16*i. */
static const char *const names[] = { "ExAllocatePool", "KeBugCheckEx", "NtBuildLab", "NtBuildNumber",
				     "PsLoadedModuleList" };
#define NNAMES 5

static const struct tb_section sections[] = {
	{ ".edata", 0x1000, 0x2000, 0x2000, 0, 0x40000040 },
	{ ".data", 0x3000, 0x1000, 0x1000, 0, 0xC8000040 },
};

static int build(void **state)
{
	uint32_t at = STRINGS;

	(void)state;
	memset(image, 0, sizeof(image));
	tb_write_headers(image, 0x400000, 0x1000, 0x1000, sizeof(image), sections, 2);
	tb_set_directory(image, 0, DIR_RVA, 0x1100);
	tb_put32(image + DIR_RVA + 0x14, NNAMES);
	tb_put32(image + DIR_RVA + 0x18, NNAMES);
	tb_put32(image + DIR_RVA + 0x1C, FUNCS);
	tb_put32(image + DIR_RVA + 0x20, NAMES);
	tb_put32(image + DIR_RVA + 0x24, ORDS);
	for (unsigned i = 0; i < NNAMES; i++) {
		unsigned ordinal = NNAMES - 1 - i;

		tb_put32(image + NAMES + 4 * i, at);
		tb_put16(image + ORDS + 2 * i, (uint16_t)ordinal);
		tb_put32(image + FUNCS + 4 * ordinal, 0x3000 + 16 * i);
		memcpy(image + at, names[i], strlen(names[i]) + 1);
		at += (uint32_t)strlen(names[i]) + 1;
	}
	for (unsigned i = 0; i < NPAGES; i++) {
		pages[i].state = NM_PAGE_VALID;
		pages[i].bytes = image + 4096 * i;
	}
	return 0;
}

static int find(const char *name, uint32_t *rva, nm_error *err)
{
	struct nm_vmem mem = tb_reader(&fake);

	return nm_pe_find_export(&mem, BASE, name, rva, err);
}

static void every_name_is_found_at_its_function(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	for (unsigned i = 0; i < NNAMES; i++) {
		rva = 0;
		if (find(names[i], &rva, &err) != 0)
			fail_msg("%s: %s: %s", names[i], err.what, err.why);
		assert_int_equal(rva, 0x3000 + 16 * i);
	}
}

static void search_reads_few_names(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	fake.walks = 0;
	assert_int_equal(find("NtBuildNumber", &rva, &err), 0);
	/* headers, the directory, then at most 3 probes of (pointer, string),
	 * the ordinal and the function: far fewer than one walk per name page
	 * of a linear scan over a large table would need */
	assert_true(fake.walks <= 12);
}

static void absent_names_are_not_found(void **state)
{
	static const char *const absent[] = { "A", "NtBuildNumbe", "NtBuildNumberX", "Zz", "" };
	nm_error err;
	uint32_t rva;

	(void)state;
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		assert_int_equal(find(absent[i], &rva, &err), -1);
		assert_string_equal(err.what, "export.Names");
	}
}

static void a_paged_out_name_table_is_named(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	pages[2].state = NM_PAGE_PAGEFILE;	/* the strings: .edata is pageable */
	pages[2].bytes = NULL;
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.Name");
	assert_non_null(strstr(err.why, "pagefile"));
}

static void a_missing_directory_is_said(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	tb_set_directory(image, 0, 0, 0);
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.DataDirectory[0]");
}

static void huge_counts_are_refused_before_any_search(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	tb_put32(image + DIR_RVA + 0x18, 0x7FFFFFFF);
	fake.walks = 0;
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.NumberOfNames");
	assert_true(fake.walks <= 3);
}

static void tables_outside_the_image_are_refused(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	tb_put32(image + DIR_RVA + 0x20, sizeof(image) - 8);	/* 5 pointers from 8 bytes before the end */
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.AddressOfNames");
	build(NULL);
	tb_put32(image + NAMES + 4 * 3, 0xFFFFFFF0);		/* a name pointer past SizeOfImage */
	tb_put32(image + NAMES + 4 * 2, 0xFFFFFFF0);
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.AddressOfNames");
}

static void an_ordinal_past_the_functions_is_refused(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	tb_put16(image + ORDS + 2 * 3, 9);
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_string_equal(err.what, "export.AddressOfNameOrdinals");
}

static void a_forwarder_is_not_an_address(void **state)
{
	nm_error err;
	uint32_t rva;

	(void)state;
	tb_put32(image + FUNCS + 4 * 1, DIR_RVA + 0x800);	/* NtBuildNumber's function: inside the directory */
	assert_int_equal(find("NtBuildNumber", &rva, &err), -1);
	assert_non_null(strstr(err.why, "forwarded"));
}

static void an_unterminated_long_name_never_matches(void **state)
{
	nm_error err;
	uint32_t rva;
	char longname[80];

	(void)state;
	/* the last name runs to the end of the image without a NUL */
	memset(image + sizeof(image) - 70, 'Z', 70);
	tb_put32(image + NAMES + 4 * 4, sizeof(image) - 70);
	assert_int_equal(find("NtBuildNumber", &rva, &err), 0);
	memset(longname, 'Z', 63);
	longname[63] = 0;
	assert_int_equal(find(longname, &rva, &err), -1);
	memset(longname, 'Z', 70);
	longname[70] = 0;
	assert_int_equal(find(longname, &rva, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(every_name_is_found_at_its_function, build),
		cmocka_unit_test_setup(search_reads_few_names, build),
		cmocka_unit_test_setup(absent_names_are_not_found, build),
		cmocka_unit_test_setup(a_paged_out_name_table_is_named, build),
		cmocka_unit_test_setup(a_missing_directory_is_said, build),
		cmocka_unit_test_setup(huge_counts_are_refused_before_any_search, build),
		cmocka_unit_test_setup(tables_outside_the_image_are_refused, build),
		cmocka_unit_test_setup(an_ordinal_past_the_functions_is_refused, build),
		cmocka_unit_test_setup(a_forwarder_is_not_an_address, build),
		cmocka_unit_test_setup(an_unterminated_long_name_never_matches, build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
