/*
 * test_mail_parse - what crmgate reads out of a mail
 *
 * Each test is a behaviour a CRM user would notice: a name decoded, a
 * charset converted, an attachment kept, a robot recognised, a hostile
 * message refused with a reason instead of a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "fixture.h"

#include "mail_message.h"

static char *fixture(const char *name, size_t *len)
{
    return test_fixture("mail", name, len);
}

static crm_message *parse_ok(const char *raw, size_t len)
{
    crm_message *m = NULL;
    char err[256];
    crm_parse_status st = crm_message_parse(raw, len, NULL, &m, err, sizeof err);

    if (st != CRM_PARSE_OK)
        fail_msg("parse failed: %s", err);
    return m;
}

static crm_message *parse_fixture(const char *name)
{
    size_t len;
    char *raw = fixture(name, &len);
    crm_message *m = parse_ok(raw, len);

    g_free(raw);
    return m;
}

static int setup(void **state)
{
    (void)state;
    crm_parsers_init();
    return 0;
}

static const char plain[] =
    "Return-Path: <john@megacorp.com>\r\n"
    "Received: from mx.megacorp.com by mx.vendor.example; Wed, 1 May 2024 10:00:05 +0000\r\n"
    "Received: from laptop by mx.megacorp.com; Wed, 1 May 2024 09:59:59 +0000\r\n"
    "From: John Smith <John.Smith@MegaCorp.com>\r\n"
    "To: Rep <rep@vendor.example>, \"Smith, Mary\" <mary@megacorp.com>\r\n"
    "Cc: susan@megacorp.com\r\n"
    "Subject: Pricing question\r\n"
    "Date: Wed, 1 May 2024 12:00:00 +0200\r\n"
    "Message-ID: <abc-123@mail.megacorp.com>\r\n"
    "In-Reply-To: <prev-1@vendor.example>\r\n"
    "References: <root-0@vendor.example> <prev-1@vendor.example>\r\n"
    "List-Id: Sales <sales.lists.megacorp.com>\r\n"
    "\r\n"
    "Hello, what does the enterprise plan cost?\r\n";

static void plain_mail_gives_ids_addresses_and_dates(void **state)
{
    crm_message *m = parse_ok(plain, sizeof plain - 1);

    (void)state;
    assert_string_equal(m->message_id, "abc-123@mail.megacorp.com");
    assert_string_equal(m->in_reply_to, "prev-1@vendor.example");
    assert_int_equal(m->n_references, 2);
    assert_string_equal(m->references[0], "root-0@vendor.example");
    assert_string_equal(m->subject, "Pricing question");
    assert_true(m->has_date);
    assert_int_equal(m->date, 1714557600);	/* 2024-05-01T10:00:00Z */
    assert_true(m->has_received_date);
    assert_int_equal(m->received_date, 1714557605);	/* the top-most Received */
    assert_int_equal(m->from.count, 1);
    assert_string_equal(m->from.items[0].name, "John Smith");
    assert_string_equal(m->from.items[0].email, "John.Smith@MegaCorp.com");
    assert_int_equal(m->to.count, 2);
    assert_string_equal(m->to.items[1].name, "Smith, Mary");
    assert_int_equal(m->cc.count, 1);
    assert_null(m->cc.items[0].name);
    assert_non_null(strstr(m->list_id, "sales.lists.megacorp.com"));
    assert_string_equal(m->body_text, "Hello, what does the enterprise plan cost?\n");
    assert_int_equal(m->auto_kind, CRM_AUTO_NONE);
    assert_int_equal(m->n_attachments, 0);
    crm_message_free(m);
}

static void crlf_and_lf_copies_hash_alike(void **state)
{
    GString *lf = g_string_new(NULL);
    char a[65], b[65], abc_crlf[65], abc_lf[65];

    (void)state;
    for (const char *p = plain; *p; p++)
        if (*p != '\r')
            g_string_append_c(lf, *p);
    crm_raw_sha256_hex(plain, sizeof plain - 1, a);
    crm_raw_sha256_hex(lf->str, lf->len, b);
    assert_string_equal(a, b);
    crm_raw_sha256_hex("abc\r\n", 5, abc_crlf);
    crm_raw_sha256_hex("abc\n", 4, abc_lf);
    assert_string_equal(abc_crlf, abc_lf);
    /* sha256("abc\n") */
    assert_string_equal(abc_lf, "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb");
    g_string_free(lf, TRUE);
}

static void encoded_words_and_legacy_charsets_become_utf8(void **state)
{
    crm_message *m = parse_fixture("charsets.eml");

    (void)state;
    assert_string_equal(m->subject, "Grüße aus München");
    assert_string_equal(m->from.items[0].name, "André Müller");
    assert_string_equal(m->to.items[0].name, "José García");
    /* ISO-8859-1 quoted-printable part, then the KOI8-R inline part */
    assert_non_null(strstr(m->body_text, "Schöne Grüße, café."));
    assert_non_null(strstr(m->body_text, "Привет"));
    crm_message_free(m);
}

static void rfc2231_filename_continuations_are_joined(void **state)
{
    crm_message *m = parse_fixture("charsets.eml");

    (void)state;
    assert_int_equal(m->n_attachments, 1);
    assert_string_equal(m->attachments[0].filename, "Angebot für MegaCorp.pdf");
    assert_string_equal(m->attachments[0].content_type, "application/pdf");
    assert_int_equal(m->attachments[0].size, 15);
    assert_memory_equal(m->attachments[0].data, "%PDF-1.4\n%\xc7\xec\x8f\xa2\n", 15);
    assert_int_equal(strlen(m->attachments[0].sha256_hex), 64);
    crm_message_free(m);
}

static void shift_jis_body_becomes_utf8(void **state)
{
    crm_message *m = parse_fixture("shift_jis.eml");

    (void)state;
    assert_string_equal(m->body_text, "こんにちは\n");
    crm_message_free(m);
}

static void unknown_charset_and_bad_bytes_still_give_valid_text(void **state)
{
    size_t len;
    char *raw = fixture("invalid_bytes.eml", &len);
    crm_message *m = parse_ok(raw, len);

    (void)state;
    assert_true(g_utf8_validate(m->subject, -1, NULL));
    assert_true(g_utf8_validate(m->body_text, -1, NULL));
    /* the NUL byte is gone, the text around it kept */
    assert_non_null(strstr(m->body_text, "a NUL"));
    assert_non_null(strstr(m->body_text, "byte and"));
    assert_int_equal(memchr(m->body_text, '\0', strlen(m->body_text) + 1) -
                     (void *)m->body_text, (long)strlen(m->body_text));
    crm_message_free(m);
    g_free(raw);
}

static void html_only_mail_gives_readable_text(void **state)
{
    crm_message *m = parse_fixture("html_only.eml");

    (void)state;
    assert_true(m->body_from_html);
    assert_null(strchr(m->body_text, '<'));
    assert_null(strstr(m->body_text, "alert"));
    assert_null(strstr(m->body_text, "color:red"));
    assert_null(strstr(m->body_text, "ignored title"));
    assert_non_null(strstr(m->body_text, "Hello Jane & family,"));
    assert_non_null(strstr(m->body_text, "- Product X\n- Product Y"));
    assert_non_null(strstr(m->body_text, "Total:\n150€"));
    crm_message_free(m);
}

static const char alternative[] =
    "From: a@example.com\nTo: b@example.com\nSubject: alt\nMessage-ID: <alt@x>\n"
    "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=B\n\n"
    "--B\nContent-Type: text/plain; charset=us-ascii\n\nthe plain version\n"
    "--B\nContent-Type: text/html\n\n<p>the <b>html</b> version</p>\n--B--\n";

static void alternative_mail_prefers_the_plain_text(void **state)
{
    crm_message *m = parse_ok(alternative, sizeof alternative - 1);

    (void)state;
    assert_false(m->body_from_html);
    assert_string_equal(m->body_text, "the plain version");
    assert_int_equal(m->n_attachments, 0);
    assert_int_equal(m->mime_depth, 2);
    assert_int_equal(m->part_count, 3);
    crm_message_free(m);
}

static void calendar_invite_part_is_kept_for_the_calendar(void **state)
{
    crm_message *m = parse_fixture("invite.eml");

    (void)state;
    assert_int_equal(m->n_calendar_parts, 1);
    assert_string_equal(m->calendar_parts[0].method, "REQUEST");
    assert_non_null(strstr(m->calendar_parts[0].data, "UID:demo-1@acme.example"));
    assert_int_equal(m->n_attachments, 0);
    crm_message_free(m);
}

static void delivery_status_notification_is_a_bounce_with_recipients(void **state)
{
    crm_message *m = parse_fixture("dsn.eml");

    (void)state;
    assert_int_equal(m->auto_kind, CRM_AUTO_BOUNCE);
    assert_int_equal(m->n_bounces, 2);
    assert_string_equal(m->bounces[0].email, "gone@megacorp.com");
    assert_string_equal(m->bounces[0].status, "5.1.1");
    assert_string_equal(m->bounces[0].action, "failed");
    assert_non_null(strstr(m->bounces[0].diagnostic, "Recipient address rejected"));
    assert_string_equal(m->bounces[1].action, "delayed");
    crm_message_free(m);
}

static crm_message *with_header(const char *header)
{
    char *raw = g_strdup_printf("From: a@example.com\nTo: b@example.com\n%s\n"
                                "Subject: Out of office\n\nAway until Monday.\n", header);
    crm_message *m = parse_ok(raw, strlen(raw));
    g_free(raw);
    return m;
}

static void auto_replies_are_recognised_by_their_headers(void **state)
{
    const char *robots[] = { "Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated",
                             "X-Autoreply: yes", "X-Autorespond: Out of office",
                             "Precedence: auto_reply" };
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(robots); i++) {
        crm_message *m = with_header(robots[i]);
        assert_int_equal(m->auto_kind, CRM_AUTO_REPLY);
        assert_non_null(m->auto_reason);
        crm_message_free(m);
    }
}

static void auto_submitted_no_is_a_human(void **state)
{
    crm_message *m = with_header("Auto-Submitted: no");

    (void)state;
    assert_int_equal(m->auto_kind, CRM_AUTO_NONE);
    crm_message_free(m);
    m = with_header("Precedence: bulk");
    assert_int_equal(m->auto_kind, CRM_AUTO_NONE);
    crm_message_free(m);
}

static void missing_message_id_is_null(void **state)
{
    crm_message *m = with_header("X-Nothing: here");

    (void)state;
    assert_null(m->message_id);
    assert_false(m->has_date);
    crm_message_free(m);
}

static void groups_are_flattened_and_empty_groups_vanish(void **state)
{
    crm_message *m = with_header("Cc: undisclosed-recipients:;, Team: a@x.example, b@y.example;");

    (void)state;
    assert_int_equal(m->cc.count, 2);
    assert_string_equal(m->cc.items[0].email, "a@x.example");
    assert_string_equal(m->cc.items[1].email, "b@y.example");
    crm_message_free(m);
}

static void limits_refuse_with_a_reason(void **state)
{
    crm_parse_limits lim;
    crm_message *m = NULL;
    char err[256];
    GString *g;
    crm_parse_status st;

    (void)state;
    crm_parse_limits_default(&lim);
    lim.max_message_bytes = 100;
    st = crm_message_parse(plain, sizeof plain - 1, &lim, &m, err, sizeof err);
    assert_int_equal(st, CRM_PARSE_TOO_LARGE);
    assert_null(m);
    assert_non_null(strstr(err, "exceeds"));

    crm_parse_limits_default(&lim);
    lim.max_headers = 50;
    g = g_string_new("From: a@example.com\n");
    for (int i = 0; i < 100; i++)
        g_string_append_printf(g, "X-Junk-%d: %d\n", i, i);
    g_string_append(g, "\nbody\n");
    st = crm_message_parse(g->str, g->len, &lim, &m, err, sizeof err);
    assert_int_equal(st, CRM_PARSE_TOO_MANY_HEADERS);
    assert_non_null(strstr(err, "header"));
    g_string_free(g, TRUE);

    /* 100 nested multiparts against a depth limit of 32 */
    crm_parse_limits_default(&lim);
    g = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
                     "Content-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 0; i < 100; i++)
        g_string_append_printf(g, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i + 1);
    g_string_append(g, "--b100\nContent-Type: text/plain\n\ndeep\n");
    st = crm_message_parse(g->str, g->len, &lim, &m, err, sizeof err);
    assert_int_equal(st, CRM_PARSE_TOO_DEEP);
    assert_non_null(strstr(err, "nesting"));
    g_string_free(g, TRUE);

    lim.max_parts = 5;
    g = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
                     "Content-Type: multipart/mixed; boundary=P\n\n");
    for (int i = 0; i < 10; i++)
        g_string_append_printf(g, "--P\nContent-Type: text/plain\n\npart %d\n", i);
    g_string_append(g, "--P--\n");
    st = crm_message_parse(g->str, g->len, &lim, &m, err, sizeof err);
    assert_int_equal(st, CRM_PARSE_TOO_MANY_PARTS);
    assert_non_null(strstr(err, "parts"));
    g_string_free(g, TRUE);
}

static void long_text_is_cut_on_a_character_boundary(void **state)
{
    crm_parse_limits lim;
    crm_message *m = NULL;
    char err[256];
    GString *g = g_string_new("From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n");

    (void)state;
    for (int i = 0; i < 100; i++)
        g_string_append(g, "é");		/* two bytes each */
    crm_parse_limits_default(&lim);
    lim.max_text_bytes = 51;
    assert_int_equal(crm_message_parse(g->str, g->len, &lim, &m, err, sizeof err), CRM_PARSE_OK);
    assert_true(m->body_truncated);
    assert_int_equal(strlen(m->body_text), 50);
    assert_true(g_utf8_validate(m->body_text, -1, NULL));
    crm_message_free(m);
    g_string_free(g, TRUE);
}

static void garbage_and_empty_input_are_not_messages(void **state)
{
    static const char garbage[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    crm_message *m = NULL;
    char err[256];

    (void)state;
    assert_int_equal(crm_message_parse("", 0, NULL, &m, err, sizeof err), CRM_PARSE_NOT_A_MESSAGE);
    assert_true(err[0] != '\0');
    assert_int_equal(crm_message_parse(garbage, sizeof garbage - 1, NULL, &m, err, sizeof err),
                     CRM_PARSE_NOT_A_MESSAGE);
    assert_null(m);
}

static void truncated_mail_parses_or_is_refused_never_crashes(void **state)
{
    size_t len;
    char *raw = fixture("charsets.eml", &len);

    (void)state;
    /* every prefix: mid-header, mid-boundary, mid-base64 */
    for (size_t cut = 1; cut < len; cut += 7) {
        crm_message *m = NULL;
        char err[256] = "";
        crm_parse_status st = crm_message_parse(raw, cut, NULL, &m, err, sizeof err);
        if (st == CRM_PARSE_OK) {
            assert_true(g_utf8_validate(m->body_text, -1, NULL));
            crm_message_free(m);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    g_free(raw);
}

static void encoded_words_in_every_form_are_decoded(void **state)
{
    crm_message *m = parse_fixture("encoded_words.eml");

    (void)state;
    /* UTF-8 base64 next to ISO-8859-1 quoted-printable: the white space
     * between adjacent encoded words goes (RFC 2047 6.2) */
    assert_string_equal(m->subject, "Échéance für heute");
    assert_string_equal(m->from.items[0].name, "Renée Dubois");	/* UTF-8, Q */
    assert_int_equal(m->to.count, 2);
    assert_string_equal(m->to.items[0].name, "Café");		/* ISO-8859-1, B */
    assert_string_equal(m->to.items[0].email, "cafe@example.fr");
    assert_string_equal(m->to.items[1].name, "Иван");		/* UTF-8, B */
    crm_message_free(m);
}

static void windows_1252_body_becomes_utf8(void **state)
{
    crm_message *m = parse_fixture("windows_1252.eml");

    (void)state;
    /* curly quotes, the en dash and the euro sign live in 0x80-0x9f,
     * where ISO-8859-1 has only control characters */
    assert_string_equal(m->body_text, "\u201cTotal\u201d \u2013 100 \u20ac, na\u00efve\n");
    crm_message_free(m);
}

static void attachment_keeps_its_exact_bytes_and_digest(void **state)
{
    crm_message *m = parse_fixture("charsets.eml");

    (void)state;
    assert_int_equal(m->n_attachments, 1);
    /* sha256sum of the 15 decoded bytes, computed outside crmgate */
    assert_string_equal(m->attachments[0].sha256_hex,
                        "b5f218923574350d091d70180f763813b06ec3dbf117cf7130a0cb5e9ad831e6");
    crm_message_free(m);
}

static void inline_text_that_is_not_the_body_is_no_attachment(void **state)
{
    static const char raw[] =
        "From: a@example.com\nSubject: mixed\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=M\n\n"
        "--M\nContent-Type: text/plain\n\nthe body\n"
        "--M\nContent-Type: text/enriched\n\n<bold>inline</bold>\n"
        "--M\nContent-Type: text/csv\nContent-Disposition: attachment; filename=prices.csv\n\n"
        "sku,price\nA,1\n"
        "--M\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
        "--M--\n";
    crm_message *m = parse_ok(raw, sizeof raw - 1);

    (void)state;
    assert_string_equal(m->body_text, "the body");
    assert_int_equal(m->n_attachments, 2);
    assert_string_equal(m->attachments[0].filename, "prices.csv");
    assert_string_equal(m->attachments[0].content_type, "text/csv");
    assert_string_equal(m->attachments[1].content_type, "image/png");
    assert_null(m->attachments[1].filename);
    assert_int_equal(m->attachments[1].size, 8);
    assert_memory_equal(m->attachments[1].data, "\x89PNG\r\n\x1a\n", 8);
    crm_message_free(m);
}

static void crlf_and_lf_copies_of_a_mail_parse_alike(void **state)
{
    GString *lf = g_string_new(NULL), *crlf_anon = g_string_new(NULL), *lf_anon;
    const char *mid = strstr(plain, "Message-ID:");
    crm_message *a, *b;

    (void)state;
    for (const char *p = plain; *p; p++)
        if (*p != '\r')
            g_string_append_c(lf, *p);
    a = parse_ok(plain, sizeof plain - 1);
    b = parse_ok(lf->str, lf->len);
    /* a mail with a Message-ID is known by it: its bytes are not hashed */
    assert_string_equal(a->raw_sha256_hex, "");
    assert_string_equal(a->body_text, b->body_text);
    assert_string_equal(a->subject, b->subject);
    crm_message_free(a);
    crm_message_free(b);

    /* without one, the hash is its key, the same for both copies */
    g_string_append_len(crlf_anon, plain, mid - plain);
    g_string_append(crlf_anon, strstr(mid, "\r\n") + 2);
    lf_anon = g_string_new(NULL);
    for (const char *p = crlf_anon->str; *p; p++)
        if (*p != '\r')
            g_string_append_c(lf_anon, *p);
    a = parse_ok(crlf_anon->str, crlf_anon->len);
    b = parse_ok(lf_anon->str, lf_anon->len);
    assert_null(a->message_id);
    assert_int_equal(strlen(a->raw_sha256_hex), 64);
    assert_string_equal(a->raw_sha256_hex, b->raw_sha256_hex);
    crm_message_free(a);
    crm_message_free(b);
    g_string_free(lf, TRUE);
    g_string_free(crlf_anon, TRUE);
    g_string_free(lf_anon, TRUE);
}

static void mailer_daemon_failure_notice_is_a_bounce_without_recipients(void **state)
{
    crm_message *m = with_header("Sender: MAILER-DAEMON@mx.example.net");

    (void)state;
    /* the daemon must be the author and the subject must say failure */
    assert_int_equal(m->auto_kind, CRM_AUTO_NONE);
    crm_message_free(m);
    {
        static const char raw[] =
            "From: MAILER-DAEMON@mx.example.net\nTo: rep@vendor.example\n"
            "Subject: failure notice\nAuto-Submitted: auto-replied\n\n"
            "Sorry, I couldn't deliver your message.\n";
        m = parse_ok(raw, sizeof raw - 1);
        /* a bounce outranks the auto-reply header it also carries */
        assert_int_equal(m->auto_kind, CRM_AUTO_BOUNCE);
        assert_int_equal(m->n_bounces, 0);
        assert_non_null(m->auto_reason);
        crm_message_free(m);
    }
}

static void a_flood_of_empty_parts_is_refused_before_gmime_builds_it(void **state)
{
    GString *g = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
                              "Content-Type: multipart/mixed; boundary=P\n\n");
    crm_message *m = NULL;
    char err[256];

    (void)state;
    /* 2 MB here; 15 MB of this cost gmime 4 GB of memory */
    for (int i = 0; i < 400000; i++)
        g_string_append(g, "--P\n\n");
    assert_int_equal(crm_message_parse(g->str, g->len, NULL, &m, err, sizeof err),
                     CRM_PARSE_TOO_MANY_PARTS);
    assert_null(m);
    assert_non_null(strstr(err, "parts"));
    g_string_free(g, TRUE);
}

static void a_flood_of_header_lines_is_refused_before_gmime_builds_it(void **state)
{
    GString *g = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
                              "Content-Type: multipart/mixed; boundary=P\n\n--P\n");
    crm_message *m = NULL;
    char err[256];

    (void)state;
    for (int i = 0; i < 300000; i++)
        g_string_append(g, "X:a\n");
    g_string_append(g, "\nbody\n--P--\n");
    assert_int_equal(crm_message_parse(g->str, g->len, NULL, &m, err, sizeof err),
                     CRM_PARSE_TOO_MANY_HEADERS);
    assert_null(m);
    assert_non_null(strstr(err, "header"));
    g_string_free(g, TRUE);
}

static void too_many_headers_in_a_part_are_counted(void **state)
{
    crm_parse_limits lim;
    GString *g = g_string_new("From: a@example.com\nMIME-Version: 1.0\n"
                              "Content-Type: multipart/mixed; boundary=P\n\n--P\n");
    crm_message *m = NULL;
    char err[256];

    (void)state;
    crm_parse_limits_default(&lim);
    lim.max_headers = 20;
    for (int i = 0; i < 30; i++)
        g_string_append_printf(g, "X-Part-%d: v\n", i);
    g_string_append(g, "\nbody\n--P--\n");
    assert_int_equal(crm_message_parse(g->str, g->len, &lim, &m, err, sizeof err),
                     CRM_PARSE_TOO_MANY_HEADERS);
    assert_non_null(strstr(err, "30"));
    g_string_free(g, TRUE);
}

static void binary_garbage_after_a_header_like_start_gives_valid_text(void **state)
{
    GString *g = g_string_new("X-Start: yes\n");
    crm_message *m = NULL;
    char err[256];
    crm_parse_status st;

    (void)state;
    for (unsigned i = 0; i < 4096; i++)
        g_string_append_c(g, (char)((i * 7919u + 13u) & 0xff));
    st = crm_message_parse(g->str, g->len, NULL, &m, err, sizeof err);
    if (st == CRM_PARSE_OK) {
        assert_true(g_utf8_validate(m->body_text, -1, NULL));
        for (size_t i = 0; i < m->n_attachments; i++)
            assert_true(g_utf8_validate(m->attachments[i].content_type, -1, NULL));
        crm_message_free(m);
    } else {
        assert_true(err[0] != '\0');
    }
    g_string_free(g, TRUE);
}

/* Found by fuzzing (tests/fuzz/regressions/fuzz_mail): a report whose
 * delivery-status part is empty crashed the DSN reader. */
static void empty_delivery_status_part_is_a_bounce_without_recipients(void **state)
{
    static const char raw[] =
        "From: Mail Delivery System <MAILER-DAEMON@mx.vendor.example>\n"
        "To: rep@vendor.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\n"
        "\n"
        "--R\n"
        "Content-Type: text/plain\n"
        "\n"
        "Your message could not be delivered.\n"
        "--R\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "--R--\n";
    crm_message *msg = parse_ok(raw, sizeof raw - 1);

    (void)state;
    assert_int_equal(msg->auto_kind, CRM_AUTO_BOUNCE);
    assert_int_equal(msg->n_bounces, 0);
    crm_message_free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_mail_gives_ids_addresses_and_dates),
        cmocka_unit_test(crlf_and_lf_copies_hash_alike),
        cmocka_unit_test(encoded_words_and_legacy_charsets_become_utf8),
        cmocka_unit_test(rfc2231_filename_continuations_are_joined),
        cmocka_unit_test(shift_jis_body_becomes_utf8),
        cmocka_unit_test(unknown_charset_and_bad_bytes_still_give_valid_text),
        cmocka_unit_test(html_only_mail_gives_readable_text),
        cmocka_unit_test(alternative_mail_prefers_the_plain_text),
        cmocka_unit_test(calendar_invite_part_is_kept_for_the_calendar),
        cmocka_unit_test(delivery_status_notification_is_a_bounce_with_recipients),
        cmocka_unit_test(auto_replies_are_recognised_by_their_headers),
        cmocka_unit_test(auto_submitted_no_is_a_human),
        cmocka_unit_test(missing_message_id_is_null),
        cmocka_unit_test(groups_are_flattened_and_empty_groups_vanish),
        cmocka_unit_test(limits_refuse_with_a_reason),
        cmocka_unit_test(long_text_is_cut_on_a_character_boundary),
        cmocka_unit_test(garbage_and_empty_input_are_not_messages),
        cmocka_unit_test(truncated_mail_parses_or_is_refused_never_crashes),
        cmocka_unit_test(encoded_words_in_every_form_are_decoded),
        cmocka_unit_test(windows_1252_body_becomes_utf8),
        cmocka_unit_test(attachment_keeps_its_exact_bytes_and_digest),
        cmocka_unit_test(inline_text_that_is_not_the_body_is_no_attachment),
        cmocka_unit_test(crlf_and_lf_copies_of_a_mail_parse_alike),
        cmocka_unit_test(mailer_daemon_failure_notice_is_a_bounce_without_recipients),
        cmocka_unit_test(a_flood_of_empty_parts_is_refused_before_gmime_builds_it),
        cmocka_unit_test(a_flood_of_header_lines_is_refused_before_gmime_builds_it),
        cmocka_unit_test(too_many_headers_in_a_part_are_counted),
        cmocka_unit_test(binary_garbage_after_a_header_like_start_gives_valid_text),
        cmocka_unit_test(empty_delivery_status_part_is_a_bounce_without_recipients),
    };
    return cmocka_run_group_tests_name("mail_parse", tests, setup, NULL);
}
