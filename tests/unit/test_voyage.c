/*
 * test_voyage - the pure parts of the Voyage client: where a text is cut
 * (never inside a UTF-8 character) and how tokens are estimated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "voyage.h"

static void cut_never_splits_a_character(void **state)
{
    const char *s = "a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80";	/* "aéb€c😀" */
    size_t len = strlen(s);

    (void)state;
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 100), len);
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 1), 1);	/* "a" */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 2), 1);	/* not half of é */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 3), 3);	/* "aé" */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 5), 4);	/* not 1/3 of € */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 6), 4);	/* not 2/3 of € */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 7), 7);
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 10), 8);	/* not 2/4 of the emoji */
    assert_int_equal(crm_voyage_utf8_prefix(s, len, 0), 0);
}

static void tokens_are_overestimated_for_prose(void **state)
{
    (void)state;
    assert_int_equal(crm_voyage_estimate_tokens(0), 1);
    assert_int_equal(crm_voyage_estimate_tokens(3), 2);
    assert_int_equal(crm_voyage_estimate_tokens(4), 3);
    /* the longest text the worker sends fits the 32K context */
    assert_true(crm_voyage_estimate_tokens(96000) <= CRM_VOYAGE_CONTEXT_TOKENS + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_never_splits_a_character),
        cmocka_unit_test(tokens_are_overestimated_for_prose),
    };
    return cmocka_run_group_tests_name("voyage", tests, NULL, NULL);
}
