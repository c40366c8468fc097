/*
 * test_smtp_command - what a client's SMTP/LMTP command line asks for
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "smtp_command.h"

static crm_smtp_status parse(const char *line, crm_smtp_command *cmd)
{
    char err[128];
    return crm_smtp_parse(line, strlen(line), cmd, err, sizeof err);
}

static void greetings_name_the_client(void **state)
{
    crm_smtp_command c;

    (void)state;
    assert_int_equal(parse("EHLO client.example", &c), CRM_SMTP_OK);
    assert_int_equal(c.verb, CRM_SMTP_EHLO);
    assert_string_equal(c.domain, "client.example");
    crm_smtp_command_clear(&c);
    assert_int_equal(parse("lhlo [192.0.2.1]", &c), CRM_SMTP_OK);
    assert_int_equal(c.verb, CRM_SMTP_LHLO);
    crm_smtp_command_clear(&c);
    assert_int_equal(parse("HELO", &c), CRM_SMTP_SYNTAX);
}

static void mail_from_with_parameters(void **state)
{
    crm_smtp_command c;

    (void)state;
    assert_int_equal(parse("MAIL FROM:<rep@vendor.example> SIZE=12345 BODY=8BITMIME SMTPUTF8", &c),
                     CRM_SMTP_OK);
    assert_int_equal(c.verb, CRM_SMTP_MAIL);
    assert_string_equal(c.path, "rep@vendor.example");
    assert_true(c.has_size);
    assert_int_equal(c.size, 12345);
    assert_true(c.body_8bit);
    assert_true(c.smtputf8);
    crm_smtp_command_clear(&c);
}

static void lenient_forms_real_clients_send(void **state)
{
    crm_smtp_command c;

    (void)state;
    assert_int_equal(parse("mail from: <a@b.example>", &c), CRM_SMTP_OK);
    assert_string_equal(c.path, "a@b.example");
    crm_smtp_command_clear(&c);
    assert_int_equal(parse("MAIL FROM:<>", &c), CRM_SMTP_OK);
    assert_string_equal(c.path, "");		/* the null reverse-path of bounces */
    crm_smtp_command_clear(&c);
    assert_int_equal(parse("RCPT TO:<@relay1,@relay2:log@in.example.com>", &c), CRM_SMTP_OK);
    assert_string_equal(c.path, "log@in.example.com");
    crm_smtp_command_clear(&c);
}

static void malformed_commands_are_refused_by_kind(void **state)
{
    crm_smtp_command c;
    GString *longline = g_string_new("MAIL FROM:<");

    (void)state;
    assert_int_equal(parse("XYZZY", &c), CRM_SMTP_UNRECOGNISED);
    assert_int_equal(parse("MAIL <a@b.example>", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("MAIL FROM:a@b.example", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("MAIL FROM:<a@b.example", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("RCPT TO:<>", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("RCPT TO:<nodomain>", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("RCPT TO:<a b@c.example>", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(parse("MAIL FROM:<a@b.example> SIZE=abc", &c), CRM_SMTP_BAD_PARAMETER);
    assert_int_equal(parse("MAIL FROM:<a@b.example> SIZE=99999999999999999999999", &c),
                     CRM_SMTP_BAD_PARAMETER);
    assert_int_equal(parse("MAIL FROM:<a@b.example> BODY=BINARYMIME", &c), CRM_SMTP_BAD_PARAMETER);
    assert_int_equal(parse("RCPT TO:<a@b.example> NOTIFY=NEVER", &c), CRM_SMTP_BAD_PARAMETER);
    assert_int_equal(parse("DATA now", &c), CRM_SMTP_SYNTAX);
    assert_int_equal(crm_smtp_parse("NOOP\0x", 6, &c, NULL, 0), CRM_SMTP_SYNTAX);
    for (int i = 0; i < 3000; i++)
        g_string_append_c(longline, 'a');
    assert_int_equal(crm_smtp_parse(longline->str, longline->len, &c, NULL, 0), CRM_SMTP_TOO_LONG);
    g_string_free(longline, TRUE);
}

static void simple_verbs(void **state)
{
    crm_smtp_command c;
    const struct { const char *line; crm_smtp_verb verb; } cases[] = {
        { "DATA", CRM_SMTP_DATA }, { "rset", CRM_SMTP_RSET }, { "NOOP hello", CRM_SMTP_NOOP },
        { "QUIT", CRM_SMTP_QUIT }, { "VRFY postmaster", CRM_SMTP_VRFY },
        { "STARTTLS", CRM_SMTP_STARTTLS }, { "HELP", CRM_SMTP_HELP },
    };

    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        assert_int_equal(parse(cases[i].line, &c), CRM_SMTP_OK);
        assert_int_equal(c.verb, cases[i].verb);
        crm_smtp_command_clear(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(greetings_name_the_client),
        cmocka_unit_test(mail_from_with_parameters),
        cmocka_unit_test(lenient_forms_real_clients_send),
        cmocka_unit_test(malformed_commands_are_refused_by_kind),
        cmocka_unit_test(simple_verbs),
    };
    return cmocka_run_group_tests_name("smtp_command", tests, NULL, NULL);
}
