/*
 * test_html_text - HTML mail reads as the text a person sees
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "html_text.h"

static char *render(const char *html)
{
    return crm_html_to_text(html, strlen(html), 1 << 20);
}

static void paragraphs_breaks_and_lists_become_lines(void **state)
{
    char *t = render("<p>Dear John,</p><p>the offer:<br>line two</p>"
                     "<ul><li>SSO</li><li>Audit log</li></ul><div>Regards</div>");

    (void)state;
    assert_string_equal(t, "Dear John,\n\nthe offer:\nline two\n\n- SSO\n- Audit log\nRegards");
    g_free(t);
}

static void entities_are_decoded_and_whitespace_collapsed(void **state)
{
    char *t = render("<p>Caf&eacute;   &amp;\n  bar&nbsp;&lt;3&gt;</p>");

    (void)state;
    assert_string_equal(t, "Café & bar <3>");
    g_free(t);
}

static void scripts_styles_and_head_are_dropped(void **state)
{
    char *t = render("<html><head><title>T</title><style>.x{}</style></head>"
                     "<body><script>var a = 1;</script>visible<noscript>no</noscript></body></html>");

    (void)state;
    assert_string_equal(t, "visible");
    g_free(t);
}

static void hostile_nesting_does_not_crash(void **state)
{
    GString *g = g_string_new(NULL);
    char *t;

    (void)state;
    for (int i = 0; i < 10000; i++)
        g_string_append(g, "<div><span>");
    g_string_append(g, "deep text");
    t = crm_html_to_text(g->str, g->len, 1 << 20);
    assert_non_null(t);
    assert_true(g_utf8_validate(t, -1, NULL));
    g_free(t);
    g_string_free(g, TRUE);
}

static void output_is_bounded(void **state)
{
    GString *g = g_string_new(NULL);
    char *t;

    (void)state;
    for (int i = 0; i < 1000; i++)
        g_string_append(g, "<p>ééééé ééééé</p>");
    t = crm_html_to_text(g->str, g->len, 101);
    assert_true(strlen(t) <= 101);
    assert_true(g_utf8_validate(t, -1, NULL));
    g_free(t);
    g_string_free(g, TRUE);
}

static void empty_input_is_empty_text(void **state)
{
    char *t = crm_html_to_text("", 0, 100);

    (void)state;
    assert_string_equal(t, "");
    g_free(t);
}

static void nested_lists_keep_every_item_on_its_own_line(void **state)
{
    char *t = render("<ul><li>Plans<ul><li>Basic</li><li>Pro</li></ul></li>"
                     "<li>Support</li></ul><ol><li>first</li></ol>");

    (void)state;
    assert_string_equal(t, "- Plans\n- Basic\n- Pro\n- Support\n- first");
    g_free(t);
}

static void a_meta_charset_cannot_re_decode_utf8_text(void **state)
{
    /* the mail part said UTF-8 and was converted; the stale <meta> from
     * the sender's editor must not turn "é" into "Ã©" */
    char *t = render("<html><head><meta http-equiv=\"Content-Type\" "
                     "content=\"text/html; charset=iso-8859-1\"></head>"
                     "<body><p>Café crème</p></body></html>");

    (void)state;
    assert_string_equal(t, "Café crème");
    g_free(t);
}

static void links_keep_their_text_and_tables_their_cells(void **state)
{
    char *t = render("<div>See <a href=\"https://x.example/p\">our pricing</a>.</div>"
                     "<table><tr><td>Plan</td><td>Price</td></tr>"
                     "<tr><td>Pro</td><td>10&euro;</td></tr></table>");

    (void)state;
    assert_string_equal(t, "See our pricing.\nPlan Price\nPro 10€");
    g_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paragraphs_breaks_and_lists_become_lines),
        cmocka_unit_test(entities_are_decoded_and_whitespace_collapsed),
        cmocka_unit_test(scripts_styles_and_head_are_dropped),
        cmocka_unit_test(hostile_nesting_does_not_crash),
        cmocka_unit_test(output_is_bounded),
        cmocka_unit_test(empty_input_is_empty_text),
        cmocka_unit_test(nested_lists_keep_every_item_on_its_own_line),
        cmocka_unit_test(a_meta_charset_cannot_re_decode_utf8_text),
        cmocka_unit_test(links_keep_their_text_and_tables_their_cells),
    };
    return cmocka_run_group_tests_name("html_text", tests, NULL, NULL);
}
