/* The bug check table: names, per-parameter kinds, Parameter 1 sub-codes,
 * and unknown codes that must describe without failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/bugcheck.h>

static struct nm_bugcheck_info describe(uint32_t code, uint64_t arg1)
{
	struct nm_bugcheck_info info;

	memset(&info, 0xA5, sizeof(info));	/* nothing may be left unset */
	nm_bugcheck_describe(code, arg1, &info);
	return info;
}

static void kinds_have_contract_names(void **state)
{
	(void)state;
	assert_string_equal(nm_param_kind_name(NM_PARAM_VA), "va");
	assert_string_equal(nm_param_kind_name(NM_PARAM_PFN), "pfn");
	assert_string_equal(nm_param_kind_name(NM_PARAM_PTE_ADDRESS), "pte_address");
	assert_string_equal(nm_param_kind_name(NM_PARAM_IP), "ip");
	assert_string_equal(nm_param_kind_name(NM_PARAM_IRQL), "irql");
	assert_string_equal(nm_param_kind_name(NM_PARAM_STATUS), "status");
	assert_string_equal(nm_param_kind_name(NM_PARAM_COUNT), "count");
	assert_string_equal(nm_param_kind_name(NM_PARAM_OTHER), "other");
	assert_string_equal(nm_param_kind_name((enum nm_param_kind)77), "other");
	assert_true(nm_param_kind_resolvable(NM_PARAM_PFN));
	assert_true(nm_param_kind_resolvable(NM_PARAM_IP));
	assert_false(nm_param_kind_resolvable(NM_PARAM_IRQL));
	assert_false(nm_param_kind_resolvable(NM_PARAM_COUNT));
}

static void pfn_list_corrupt_7_is_the_seed_case(void **state)
{
	struct nm_bugcheck_info b = describe(0x4E, 7);

	(void)state;
	assert_int_equal(b.code, 0x4E);
	assert_string_equal(b.name, "PFN_LIST_CORRUPT");
	assert_non_null(b.cause);
	assert_non_null(strstr(b.cause, "unlocked a page more times than it locked it"));
	assert_int_equal(b.params[0].kind, NM_PARAM_OTHER);
	assert_int_equal(b.params[1].kind, NM_PARAM_PFN);
	assert_non_null(strstr(b.params[1].meaning, "page frame number"));
	assert_int_equal(b.params[2].kind, NM_PARAM_COUNT);
	assert_non_null(strstr(b.params[2].meaning, "share count"));
	assert_int_equal(b.params[3].kind, NM_PARAM_OTHER);
}

static void pfn_list_corrupt_subcodes_change_the_meanings(void **state)
{
	struct nm_bugcheck_info list = describe(0x4E, 0x01);
	struct nm_bugcheck_info proto = describe(0x4E, 0x06);
	struct nm_bugcheck_info head = describe(0x4E, 0x8F);
	struct nm_bugcheck_info locked = describe(0x4E, 0x9A);

	(void)state;
	assert_int_equal(list.params[1].kind, NM_PARAM_OTHER);
	assert_int_equal(list.params[2].kind, NM_PARAM_COUNT);
	assert_int_equal(proto.params[1].kind, NM_PARAM_PFN);
	assert_int_equal(proto.params[2].kind, NM_PARAM_PTE_ADDRESS);
	assert_int_equal(head.params[1].kind, NM_PARAM_PFN);
	assert_int_equal(head.params[2].kind, NM_PARAM_PFN);
	assert_int_equal(locked.params[3].kind, NM_PARAM_COUNT);
	assert_string_not_equal(list.cause, locked.cause);
}

static void unlisted_subcode_keeps_the_generic_row(void **state)
{
	struct nm_bugcheck_info b = describe(0x4E, 0x1234);

	(void)state;
	assert_string_equal(b.name, "PFN_LIST_CORRUPT");
	assert_null(b.cause);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(b.params[i].kind, NM_PARAM_OTHER);
		assert_non_null(strstr(b.params[i].meaning, "Parameter 1"));
	}
}

static void page_fault_in_nonpaged_area(void **state)
{
	struct nm_bugcheck_info b = describe(0x50, 0xdeadbeef);	/* Arg1 is an address here */

	(void)state;
	assert_string_equal(b.name, "PAGE_FAULT_IN_NONPAGED_AREA");
	assert_null(b.cause);
	assert_int_equal(b.params[0].kind, NM_PARAM_VA);
	assert_int_equal(b.params[1].kind, NM_PARAM_OTHER);
	assert_int_equal(b.params[2].kind, NM_PARAM_IP);
	assert_int_equal(b.params[3].kind, NM_PARAM_OTHER);
}

static void irql_codes_type_their_parameters(void **state)
{
	static const uint32_t codes[] = { 0x0A, 0xC5, 0xD1 };

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct nm_bugcheck_info b = describe(codes[i], 0);

		assert_non_null(b.name);
		assert_int_equal(b.params[0].kind, NM_PARAM_VA);
		assert_int_equal(b.params[1].kind, NM_PARAM_IRQL);
		assert_int_equal(b.params[3].kind, NM_PARAM_IP);
	}
}

static void exception_codes_and_their_m_twins(void **state)
{
	struct nm_bugcheck_info a = describe(0x7E, 0xC0000005);
	struct nm_bugcheck_info am = describe(0x1000007E, 0xC0000005);
	struct nm_bugcheck_info b = describe(0x8E, 0);
	struct nm_bugcheck_info bm = describe(0x1000008E, 0);

	(void)state;
	assert_string_equal(a.name, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED");
	assert_string_equal(am.name, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
	assert_string_equal(b.name, "KERNEL_MODE_EXCEPTION_NOT_HANDLED");
	assert_string_equal(bm.name, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a.params[i].kind, am.params[i].kind);
		assert_int_equal(b.params[i].kind, bm.params[i].kind);
	}
	assert_int_equal(a.params[0].kind, NM_PARAM_STATUS);
	assert_int_equal(a.params[1].kind, NM_PARAM_IP);
	assert_int_equal(describe(0x1E, 0).params[1].kind, NM_PARAM_IP);
	assert_int_equal(describe(0x3B, 0).params[0].kind, NM_PARAM_STATUS);
}

static void every_required_code_is_named(void **state)
{
	static const uint32_t required[] = {
		0x0A, 0x1E, 0x19, 0x3B, 0x4E, 0x50, 0x7E, 0x7F, 0x8E, 0xBE, 0xC2,
		0xC5, 0xCE, 0xD1, 0xD5, 0xD6, 0xEA, 0x1000007E, 0x1000008E,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct nm_bugcheck_info b = describe(required[i], 0);

		assert_non_null(b.name);
		assert_non_null(b.summary);
		for (int p = 0; p < 4; p++) {
			assert_non_null(b.params[p].meaning);
			assert_true((unsigned)b.params[p].kind < NM_PARAM_KIND_COUNT);
		}
	}
}

static void table_codes_are_unique(void **state)
{
	unsigned n = nm_bugcheck_table_size();

	(void)state;
	assert_true(n >= 19);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			assert_true(nm_bugcheck_table_code(i) != nm_bugcheck_table_code(j));
	assert_int_equal(nm_bugcheck_table_code(n), 0);
}

static void unknown_code_is_raw_not_an_error(void **state)
{
	struct nm_bugcheck_info b = describe(0x12345678, 7);

	(void)state;
	assert_int_equal(b.code, 0x12345678);
	assert_null(b.name);
	assert_null(b.summary);
	assert_null(b.cause);
	for (int i = 0; i < 4; i++) {
		assert_null(b.params[i].meaning);
		assert_int_equal(b.params[i].kind, NM_PARAM_OTHER);
	}
	assert_null(describe(0, 0).name);
	assert_null(describe(0xFFFFFFFF, 0).name);
}

static void subcodes_of_pool_codes(void **state)
{
	(void)state;
	assert_int_equal(describe(0xC2, 0x07).params[3].kind, NM_PARAM_VA);
	assert_int_equal(describe(0x19, 0x20).params[1].kind, NM_PARAM_VA);
	assert_int_equal(describe(0x76, 0x00).params[1].kind, NM_PARAM_VA);
	assert_int_equal(describe(0x76, 0x00).params[2].kind, NM_PARAM_COUNT);
	assert_int_equal(describe(0xBE, 0).params[0].kind, NM_PARAM_VA);
	assert_int_equal(describe(0xEA, 0).params[3].kind, NM_PARAM_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_have_contract_names),
		cmocka_unit_test(pfn_list_corrupt_7_is_the_seed_case),
		cmocka_unit_test(pfn_list_corrupt_subcodes_change_the_meanings),
		cmocka_unit_test(unlisted_subcode_keeps_the_generic_row),
		cmocka_unit_test(page_fault_in_nonpaged_area),
		cmocka_unit_test(irql_codes_type_their_parameters),
		cmocka_unit_test(exception_codes_and_their_m_twins),
		cmocka_unit_test(every_required_code_is_named),
		cmocka_unit_test(table_codes_are_unique),
		cmocka_unit_test(unknown_code_is_raw_not_an_error),
		cmocka_unit_test(subcodes_of_pool_codes),
	};
	return cmocka_run_group_tests_name("bugcheck", tests, NULL, NULL);
}
