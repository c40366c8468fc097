/*
 * test_pg_array - binary array parameters, byte for byte as PostgreSQL's
 * array_recv reads them: header, NULL elements, an empty array, and a
 * text element holding what a text-format literal would have to escape;
 * and the text-format literal itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "pg_array.h"

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void text_with_null(void **state)
{
    (void)state;
    crm_pg_array *a = crm_pg_array_new(CRM_PG_TEXT, 0);
    int len;
    char *b;

    crm_pg_array_add_text(a, "say \"hi\" {to} \\ me,");
    crm_pg_array_add_text(a, NULL);
    crm_pg_array_add_text(a, "");
    b = crm_pg_array_finish(a, &len);
    assert_int_equal(len, 20 + 4 + 19 + 4 + 4);
    assert_int_equal(get32(b), 1);		/* one dimension */
    assert_int_equal(get32(b + 4), 1);		/* has NULLs */
    assert_int_equal(get32(b + 8), 25);		/* text */
    assert_int_equal(get32(b + 12), 3);		/* three elements */
    assert_int_equal(get32(b + 16), 1);		/* from 1 */
    assert_int_equal(get32(b + 20), 19);
    assert_memory_equal(b + 24, "say \"hi\" {to} \\ me,", 19);	/* as it is */
    assert_int_equal(get32(b + 43), UINT32_MAX);	/* NULL: length -1, no bytes */
    assert_int_equal(get32(b + 47), 0);		/* "" is not NULL */
    g_free(b);
}

static void int8_big_endian(void **state)
{
    (void)state;
    crm_pg_array *a = crm_pg_array_new(CRM_PG_INT8, 0);
    int len;
    char *b;

    crm_pg_array_add_int8(a, 1700000000);
    crm_pg_array_add_int8(a, -2);
    b = crm_pg_array_finish(a, &len);
    assert_int_equal(len, 20 + 2 * 12);
    assert_int_equal(get32(b + 4), 0);		/* no NULLs */
    assert_int_equal(get32(b + 8), 20);
    assert_int_equal(get32(b + 20), 8);
    assert_int_equal(get32(b + 24), 0);
    assert_int_equal(get32(b + 28), 1700000000);
    assert_int_equal(get32(b + 32), 8);
    assert_int_equal(get32(b + 36), UINT32_MAX);
    assert_int_equal(get32(b + 40), UINT32_MAX - 1);
    g_free(b);
}

static void empty_has_no_dimension(void **state)
{
    (void)state;
    int len;
    char *b = crm_pg_array_finish(crm_pg_array_new(CRM_PG_TEXT, 100), &len);

    assert_int_equal(len, 12);
    assert_int_equal(get32(b), 0);
    assert_int_equal(get32(b + 4), 0);
    assert_int_equal(get32(b + 8), 25);
    g_free(b);
}

static void text_literal_escapes(void **state)
{
    (void)state;
    const char *items[] = { "a\"b", NULL, "c\\d", "" };
    char *lit = crm_pg_text_array_literal(items, 4);

    assert_string_equal(lit, "{\"a\\\"b\",NULL,\"c\\\\d\",\"\"}");
    g_free(lit);
    lit = crm_pg_text_array_literal(NULL, 2);	/* no items: all NULL */
    assert_string_equal(lit, "{NULL,NULL}");
    g_free(lit);
    lit = crm_pg_text_array_literal(items, 0);
    assert_string_equal(lit, "{}");
    g_free(lit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_with_null),
        cmocka_unit_test(int8_big_endian),
        cmocka_unit_test(empty_has_no_dimension),
        cmocka_unit_test(text_literal_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
