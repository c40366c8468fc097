/*
 * test_corpus - mail nobody on this project wrote
 *
 * CPython's email test messages (tests/data/corpus/python-email, see its
 * README): every file parses into valid UTF-8 text or is refused with a
 * named reason; a few facts about known files are checked exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "mail_message.h"

#define CORPUS TEST_DATA_DIR "/corpus/python-email"

static crm_parse_status parse_file(const char *name, crm_message **m, char *err, size_t errlen)
{
    char *path = g_build_filename(CORPUS, name, NULL);
    char *data = NULL;
    gsize len = 0;
    crm_parse_status st;

    assert_true(g_file_get_contents(path, &data, &len, NULL));
    st = crm_message_parse(data, len, NULL, m, err, errlen);
    g_free(data);
    g_free(path);
    return st;
}

static void list_is_valid(const crm_address_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        assert_true(g_utf8_validate(l->items[i].email, -1, NULL));
        if (l->items[i].name)
            assert_true(g_utf8_validate(l->items[i].name, -1, NULL));
    }
}

static void every_message_parses_or_is_refused_with_a_reason(void **state)
{
    GDir *dir = g_dir_open(CORPUS, 0, NULL);
    const char *name;
    int parsed = 0, refused = 0;

    (void)state;
    assert_non_null(dir);
    while ((name = g_dir_read_name(dir)) != NULL) {
        crm_message *m = NULL;
        char err[256] = "";

        if (!g_str_has_suffix(name, ".txt"))
            continue;
        if (parse_file(name, &m, err, sizeof err) == CRM_PARSE_OK) {
            assert_true(g_utf8_validate(m->body_text, -1, NULL));
            if (m->subject)
                assert_true(g_utf8_validate(m->subject, -1, NULL));
            list_is_valid(&m->from);
            list_is_valid(&m->to);
            list_is_valid(&m->cc);
            crm_message_free(m);
            parsed++;
        } else {
            assert_true(err[0] != '\0');
            print_message("refused %s: %s\n", name, err);
            refused++;
        }
    }
    g_dir_close(dir);
    assert_int_equal(parsed + refused, 47);
    /* only the header-less digest body is no message at all */
    assert_int_equal(refused, 1);
}

static void digest_body_without_headers_is_refused(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    assert_int_equal(parse_file("msg_19.txt", &m, err, sizeof err), CRM_PARSE_NOT_A_MESSAGE);
    assert_non_null(strstr(err, "not a mail message"));
}

static void dsn_reports_name_the_failed_recipients(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    /* its boundary parameter is cut off ("bo"), so no part can be found:
     * still a bounce, by its type, with no recipient to blame */
    assert_int_equal(parse_file("msg_25.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_int_equal(m->auto_kind, CRM_AUTO_BOUNCE);
    assert_int_equal(m->n_bounces, 0);
    crm_message_free(m);

    assert_int_equal(parse_file("msg_43.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_int_equal(m->auto_kind, CRM_AUTO_BOUNCE);
    assert_true(m->n_bounces >= 3);
    assert_string_equal(m->bounces[0].email, "xxxxxxx@dot.ca.gov");
    assert_string_equal(m->bounces[0].status, "5.7.1");
    assert_string_equal(m->bounces[0].action, "failed");
    crm_message_free(m);
}

static void a_mailman_digest_keeps_its_parts(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    assert_int_equal(parse_file("msg_02.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_string_equal(m->subject, "Ppp digest, Vol 1 #2 - 5 msgs");
    assert_int_equal(m->auto_kind, CRM_AUTO_NONE);
    /* the digest's five messages are message/rfc822 parts: attachments */
    assert_true(m->part_count >= 7);
    assert_true(m->mime_depth >= 3);
    crm_message_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_message_parses_or_is_refused_with_a_reason),
        cmocka_unit_test(digest_body_without_headers_is_refused),
        cmocka_unit_test(dsn_reports_name_the_failed_recipients),
        cmocka_unit_test(a_mailman_digest_keeps_its_parts),
    };
    crm_parsers_init();
    return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
