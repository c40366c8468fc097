/*
 * test_forward - a forwarded mail yields the original it carries
 *
 * Inline forwards as Gmail, Outlook, Apple Mail and Thunderbird write
 * them (English), and an attached message/rfc822.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "forward.h"

static crm_message *parse(const char *raw)
{
    crm_message *m = NULL;
    char err[256];

    if (crm_message_parse(raw, strlen(raw), NULL, &m, err, sizeof err) != CRM_PARSE_OK)
        fail_msg("%s", err);
    return m;
}

static crm_message *forward_of(const char *body)
{
    char *raw = g_strconcat("From: Rita Rep <rep@vendor.example>\nTo: log@in.example.com\n"
                            "Subject: Fwd: Pricing\nMessage-ID: <fwd@vendor.example>\n"
                            "Content-Type: text/plain; charset=utf-8\n\n", body, NULL);
    crm_message *m = parse(raw);
    g_free(raw);
    return m;
}

static void check(const char *body, const char *format, const char *note)
{
    crm_message *m = forward_of(body);
    crm_forward *f = crm_forward_detect(m, NULL);

    assert_non_null(f);
    assert_string_equal(f->format, format);
    assert_string_equal(f->note, note);
    assert_int_equal(f->original->from.count, 1);
    assert_string_equal(f->original->from.items[0].email, "john.smith@megacorp.com");
    assert_string_equal(f->original->from.items[0].name, "John Smith");
    assert_int_equal(f->original->to.count, 1);
    assert_string_equal(f->original->to.items[0].email, "rep@vendor.example");
    assert_string_equal(f->original->subject, "Pricing");
    assert_non_null(strstr(f->original->body_text, "What does the enterprise plan cost?"));
    crm_forward_free(f);
    crm_message_free(m);
}

static void gmail_inline_forward(void **state)
{
    (void)state;
    check("FYI, hot lead.\n\n---------- Forwarded message ---------\n"
          "From: John Smith <john.smith@megacorp.com>\n"
          "Date: Mon, 6 May 2024 at 10:00\n"
          "Subject: Pricing\nTo: Rita Rep <rep@vendor.example>\n\n\n"
          "What does the enterprise plan cost?\n", "gmail", "FYI, hot lead.");
}

static void outlook_inline_forward(void **state)
{
    (void)state;
    check("Please log this.\n\n-----Original Message-----\n"
          "From: John Smith [mailto:john.smith@megacorp.com]\n"
          "Sent: Monday, May 6, 2024 10:00 AM\nTo: Rita Rep <rep@vendor.example>\n"
          "Subject: Pricing\n\nWhat does the enterprise plan cost?\n", "outlook", "Please log this.");
}

static void outlook_underscore_forward(void **state)
{
    (void)state;
    check("\n________________________________\n"
          "From: John Smith <john.smith@megacorp.com>\nSent: Monday, May 6, 2024 10:00\n"
          "To: rep@vendor.example\nSubject: Pricing\n\n"
          "What does the enterprise plan cost?\n", "outlook", "");
}

static void apple_mail_forward(void **state)
{
    (void)state;
    check("See below.\n\nBegin forwarded message:\n\n"
          "From: John Smith <john.smith@megacorp.com>\nSubject: Pricing\n"
          "Date: 6 May 2024 at 10:00:00 CEST\nTo: rep@vendor.example\n\n"
          "What does the enterprise plan cost?\n", "apple", "See below.");
}

static void thunderbird_forward(void **state)
{
    (void)state;
    check("\n\n-------- Forwarded Message --------\n"
          "Subject: \tPricing\nDate: \tMon, 6 May 2024 10:00:00 +0200\n"
          "From: \tJohn Smith <john.smith@megacorp.com>\nTo: \trep@vendor.example\n\n"
          "What does the enterprise plan cost?\n", "thunderbird", "");
}

static void attached_original_keeps_its_message_id(void **state)
{
    crm_message *m = parse(
        "From: rep@vendor.example\nTo: log@in.example.com\nSubject: Fwd: Pricing\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
        "--B\nContent-Type: text/plain\n\nForwarding as attachment.\n"
        "--B\nContent-Type: message/rfc822\n\n"
        "From: John Smith <john.smith@megacorp.com>\nTo: rep@vendor.example\n"
        "Subject: Pricing\nDate: Mon, 6 May 2024 10:00:00 +0000\nMessage-ID: <orig-1@megacorp.com>\n\n"
        "What does the enterprise plan cost?\n--B--\n");
    crm_forward *f = crm_forward_detect(m, NULL);

    (void)state;
    assert_non_null(f);
    assert_string_equal(f->format, "attached");
    assert_string_equal(f->original->message_id, "orig-1@megacorp.com");
    assert_true(f->original->has_date);
    assert_int_equal(f->original->date, 1714989600);
    assert_string_equal(f->note, "Forwarding as attachment.");
    crm_forward_free(f);
    crm_message_free(m);
}

static void an_ordinary_mail_is_no_forward(void **state)
{
    crm_message *m = forward_of("Hi John,\n\nFrom: the pricing team we heard back.\n"
                                "-----Original Message-----\nno header block here\n");
    (void)state;
    assert_null(crm_forward_detect(m, NULL));
    crm_message_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gmail_inline_forward),
        cmocka_unit_test(outlook_inline_forward),
        cmocka_unit_test(outlook_underscore_forward),
        cmocka_unit_test(apple_mail_forward),
        cmocka_unit_test(thunderbird_forward),
        cmocka_unit_test(attached_original_keeps_its_message_id),
        cmocka_unit_test(an_ordinary_mail_is_no_forward),
    };
    crm_parsers_init();
    return cmocka_run_group_tests_name("forward", tests, NULL, NULL);
}
