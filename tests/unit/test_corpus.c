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

/* What PostgreSQL will be handed: NULL or valid UTF-8 (a C string has
 * no NUL inside by construction). */
static void text_ok(const char *s)
{
    if (s != NULL)
        assert_true(g_utf8_validate(s, -1, NULL));
}

static void list_is_valid(const crm_address_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        assert_non_null(l->items[i].email);
        assert_true(l->items[i].email[0] != '\0');
        text_ok(l->items[i].email);
        text_ok(l->items[i].name);
    }
}

static void every_string_is_valid(const crm_message *m)
{
    assert_non_null(m->body_text);
    text_ok(m->body_text);
    text_ok(m->subject);
    text_ok(m->message_id);
    text_ok(m->in_reply_to);
    text_ok(m->list_id);
    text_ok(m->auto_reason);
    for (size_t i = 0; i < m->n_references; i++)
        text_ok(m->references[i]);
    list_is_valid(&m->from);
    list_is_valid(&m->sender);
    list_is_valid(&m->to);
    list_is_valid(&m->cc);
    list_is_valid(&m->bcc);
    list_is_valid(&m->reply_to);
    for (size_t i = 0; i < m->n_attachments; i++) {
        text_ok(m->attachments[i].filename);
        assert_non_null(m->attachments[i].content_type);
        text_ok(m->attachments[i].content_type);
        assert_int_equal(strlen(m->attachments[i].sha256_hex), 64);
    }
    for (size_t i = 0; i < m->n_calendar_parts; i++) {
        text_ok(m->calendar_parts[i].method);
        text_ok(m->calendar_parts[i].data);
    }
    for (size_t i = 0; i < m->n_bounces; i++) {
        text_ok(m->bounces[i].email);
        text_ok(m->bounces[i].status);
        text_ok(m->bounces[i].action);
        text_ok(m->bounces[i].diagnostic);
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
            every_string_is_valid(m);
            crm_message_free(m);
            parsed++;
        } else {
            assert_true(err[0] != '\0');
            print_message("# refused %s: %s\n", name, err);
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

static void a_report_without_report_type_is_still_read_as_a_bounce(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    /* UCLA's postmaster: multipart/report with no report-type, a
     * "message/DELIVERY-STATUS" part, "Status: 5.0.0 (comment)" */
    assert_int_equal(parse_file("msg_16.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_int_equal(m->auto_kind, CRM_AUTO_BOUNCE);
    assert_int_equal(m->n_bounces, 1);
    assert_string_equal(m->bounces[0].email, "jangel1@cougar.noc.ucla.edu");
    assert_string_equal(m->bounces[0].status, "5.0.0");
    assert_string_equal(m->bounces[0].action, "failed");
    /* the returned original stays as a document, the status part not */
    assert_int_equal(m->n_attachments, 1);
    assert_string_equal(m->attachments[0].content_type, "message/rfc822");
    crm_message_free(m);
}

static void the_dingus_fish_gif_comes_out_byte_exact(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    assert_int_equal(parse_file("msg_07.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_string_equal(m->body_text, "Hi there,\n\nThis is the dingus fish.\n");
    assert_int_equal(m->n_attachments, 1);
    assert_string_equal(m->attachments[0].filename, "dingusfish.gif");
    assert_string_equal(m->attachments[0].content_type, "image/gif");
    assert_int_equal(m->attachments[0].size, 3512);
    /* digest of Python's email.message get_payload(decode=True) */
    assert_string_equal(m->attachments[0].sha256_hex,
                        "354288075c6cd6c6a99180ef60b99f599b4e3d6c28bd67c29adc736079e52a84");
    assert_memory_equal(m->attachments[0].data, "GIF87a", 6);
    crm_message_free(m);
}

static void a_groupwise_forward_is_one_attached_message(void **state)
{
    crm_message *m = NULL;
    char err[256];

    (void)state;
    /* the whole body is message/rfc822; the top Received is folded
     * over three lines and its date follows the last ';' */
    assert_int_equal(parse_file("msg_46.txt", &m, err, sizeof err), CRM_PARSE_OK);
    assert_string_equal(m->subject, "GroupwiseForwardingTest");
    assert_true(m->has_date);
    assert_int_equal(m->date, 1265023276);		/* 2010-02-01 11:21:16 UTC */
    assert_true(m->has_received_date);
    assert_int_equal(m->received_date, 1265634316);	/* 2010-02-08 13:05:16 UTC */
    assert_null(m->message_id);
    assert_int_equal(m->n_attachments, 1);
    assert_string_equal(m->attachments[0].content_type, "message/rfc822");
    assert_string_equal(m->body_text, "");
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
    /* multipart/mixed > 2 x text/plain, multipart/digest > 5 x
     * message/rfc822 > text/plain each, a text/plain footer: 15 parts,
     * 4 levels */
    assert_int_equal(m->part_count, 15);
    assert_int_equal(m->mime_depth, 4);
    /* the digest's five messages are kept whole, as .eml attachments */
    assert_int_equal(m->n_attachments, 5);
    for (size_t i = 0; i < m->n_attachments; i++)
        assert_string_equal(m->attachments[i].content_type, "message/rfc822");
    assert_string_equal(m->attachments[0].filename, "[Ppp] testing #1.eml");
    assert_non_null(strstr(m->body_text, "Send Ppp mailing list submissions to"));
    crm_message_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_message_parses_or_is_refused_with_a_reason),
        cmocka_unit_test(digest_body_without_headers_is_refused),
        cmocka_unit_test(dsn_reports_name_the_failed_recipients),
        cmocka_unit_test(a_mailman_digest_keeps_its_parts),
        cmocka_unit_test(a_report_without_report_type_is_still_read_as_a_bounce),
        cmocka_unit_test(the_dingus_fish_gif_comes_out_byte_exact),
        cmocka_unit_test(a_groupwise_forward_is_one_attached_message),
    };
    crm_parsers_init();
    return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
