#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/page_state.h>

static void names_are_the_contract_spellings(void **state)
{
	(void)state;
	assert_string_equal(nm_page_state_name(NM_PAGE_VALID), "valid");
	assert_string_equal(nm_page_state_name(NM_PAGE_TRANSITION), "transition");
	assert_string_equal(nm_page_state_name(NM_PAGE_DEMAND_ZERO), "demand_zero");
	assert_string_equal(nm_page_state_name(NM_PAGE_PAGEFILE), "pagefile");
	assert_string_equal(nm_page_state_name(NM_PAGE_PROTOTYPE), "prototype");
	assert_string_equal(nm_page_state_name(NM_PAGE_NOT_MAPPED), "not_mapped");
	assert_string_equal(nm_page_state_name(NM_PAGE_NOT_IN_DUMP), "not_in_dump");
	assert_string_equal(nm_page_state_name(NM_PAGE_STALE), "stale");
	assert_string_equal(nm_page_state_name((enum nm_page_state)99), "unknown");
}

static void only_three_states_have_bytes(void **state)
{
	(void)state;
	for (int s = 0; s < NM_PAGE_STATE_COUNT; s++)
		assert_int_equal(nm_page_state_readable((enum nm_page_state)s),
				 s == NM_PAGE_VALID || s == NM_PAGE_TRANSITION ||
				 s == NM_PAGE_DEMAND_ZERO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_are_the_contract_spellings),
		cmocka_unit_test(only_three_states_have_bytes),
	};
	return cmocka_run_group_tests_name("page_state", tests, NULL, NULL);
}
