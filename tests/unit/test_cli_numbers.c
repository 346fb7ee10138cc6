/* Command-line numbers as WinDbg reads them (hex by default, 0x accepted,
 * 0n decimal) and the near-match used for "did you mean". The CLI's two
 * files are compiled in here: they are not part of libntmem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/cli/numbers.c"
#include "../../src/cli/near_match.c"

static uint64_t parsed(const char *s)
{
	uint64_t v = 0xA5A5A5A5A5A5A5A5ull;

	assert_int_equal(cli_parse_number(s, &v), 0);
	return v;
}

static void bare_digits_are_hex(void **state)
{
	(void)state;
	assert_int_equal(parsed("80800000"), 0x80800000u);
	assert_int_equal(parsed("10"), 0x10);
	assert_int_equal(parsed("f7e8b000"), 0xf7e8b000u);
	assert_int_equal(parsed("F7E8B000"), 0xf7e8b000u);
	assert_int_equal(parsed("0"), 0);
}

static void prefixes(void **state)
{
	(void)state;
	assert_int_equal(parsed("0x39000"), 0x39000);
	assert_int_equal(parsed("0X39000"), 0x39000);
	assert_int_equal(parsed("0n4096"), 0x1000);
	assert_int_equal(parsed("0N10"), 10);
	assert_int_equal(parsed("0n0"), 0);
	assert_true(parsed("ffffffffffffffff") == UINT64_MAX);
}

static void refused(void **state)
{
	static const char *bad[] = { "", "0x", "0n", "0n1a", "-1", "+1", " 1", "1 ", "0x-1", "0n-1",
				     "0x0x1", "g", "12zz", "10000000000000000", "0n18446744073709551616" };
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_number(bad[i], &v) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(cli_parse_number(NULL, &v), -1);
}

static void near_matches(void **state)
{
	static const char *const commands[] = { "info", "pte", "read", "pools", "modules", "carve" };
	static const char *const modules[] = { "ntoskrnl.exe", NULL, "npf.sys", "Ntfs.sys" };

	(void)state;
	assert_string_equal(cli_nearest("moduls", commands, 6), "modules");
	assert_string_equal(cli_nearest("carv", commands, 6), "carve");
	assert_string_equal(cli_nearest("INFO", commands, 6), "info");
	assert_null(cli_nearest("frobnicate", commands, 6));
	assert_null(cli_nearest("", commands, 6));
	assert_string_equal(cli_nearest("npf", modules, 4), "npf.sys");
	assert_string_equal(cli_nearest("ntfs", modules, 4), "Ntfs.sys");
	assert_string_equal(cli_nearest("ntfs.sy", modules, 4), "Ntfs.sys");
	assert_null(cli_nearest("tcpip", modules, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bare_digits_are_hex),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(refused),
		cmocka_unit_test(near_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
