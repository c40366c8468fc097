/*
 * test_mbox - an mbox file splits into the messages that were put in it
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "mbox.h"

static const char three[] =
    "From alice@acme.example Wed May  1 10:00:00 2024\n"
    "From: alice@acme.example\nSubject: one\n\nfirst body\n"
    ">From the start of a line, escaped by the writer\n"
    ">>From twice escaped\n"
    "\n"
    "From bob@acme.example Wed May  1 11:00:00 2024\n"
    "From: bob@acme.example\nSubject: two\n\nsecond body\n"
    "\n"
    "From carol@acme.example Wed May  1 12:00:00 2024\n"
    "From: carol@acme.example\nSubject: three\n\nno newline at the end";

static const char trailing[] =
    "From a@x Wed May  1 10:00:00 2024\nFrom: a@x\n\nlast\n\n";

static void last_message_loses_the_writers_blank_line_too(void **state)
{
    crm_mbox_iter it;
    const char *msg;
    size_t len, off;

    (void)state;
    crm_mbox_iter_init(&it, trailing, sizeof trailing - 1);
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_int_equal(len, strlen("From: a@x\n\nlast\n"));
}

static void three_messages_come_out_with_their_offsets(void **state)
{
    crm_mbox_iter it;
    const char *msg;
    size_t len, off, count = 0;
    size_t want_off[3] = { 0, 0, 0 };

    (void)state;
    want_off[1] = (size_t)(strstr(three, "From bob@") - three);
    want_off[2] = (size_t)(strstr(three, "From carol@") - three);
    assert_true(crm_mbox_sniff(three, sizeof three - 1));
    crm_mbox_iter_init(&it, three, sizeof three - 1);
    while (crm_mbox_next(&it, &msg, &len, &off)) {
        assert_true(count < 3);
        assert_int_equal(off, want_off[count]);
        /* no separator line, message starts with its headers */
        assert_memory_equal(msg, "From: ", 6);
        count++;
    }
    assert_int_equal(count, 3);
}

static void separator_blank_line_is_not_part_of_the_message(void **state)
{
    crm_mbox_iter it;
    const char *msg;
    size_t len, off;

    (void)state;
    crm_mbox_iter_init(&it, three, sizeof three - 1);
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_int_equal(len, strlen("From: bob@acme.example\nSubject: two\n\nsecond body\n"));
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_int_equal(len, strlen("From: carol@acme.example\nSubject: three\n\nno newline at the end"));
    assert_false(crm_mbox_next(&it, &msg, &len, &off));
}

static void escaped_from_lines_are_restored(void **state)
{
    crm_mbox_iter it;
    const char *msg;
    size_t len, off, out_len;
    char *plain;

    (void)state;
    crm_mbox_iter_init(&it, three, sizeof three - 1);
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    plain = crm_mbox_unescape(msg, len, &out_len);
    assert_int_equal(out_len, strlen(plain));
    assert_non_null(strstr(plain, "\nFrom the start of a line"));
    assert_non_null(strstr(plain, "\n>From twice escaped"));
    assert_null(strstr(plain, ">>From"));
    g_free(plain);
}

static void a_mail_file_is_not_an_mbox(void **state)
{
    static const char eml[] = "From: alice@acme.example\nSubject: x\n\nbody\n";
    crm_mbox_iter it;
    const char *msg;
    size_t len, off;

    (void)state;
    assert_false(crm_mbox_sniff(eml, sizeof eml - 1));
    assert_false(crm_mbox_sniff("", 0));
    crm_mbox_iter_init(&it, eml, sizeof eml - 1);
    assert_false(crm_mbox_next(&it, &msg, &len, &off));
}

static void a_from_line_without_a_blank_line_before_it_still_separates(void **state)
{
    /* mboxo writers do not always leave the blank line; mutt and gmime
     * split here all the same */
    static const char tight[] =
        "From a@x Wed May  1 10:00:00 2024\nFrom: a@x\n\none\n"
        "From b@x Wed May  1 10:00:01 2024\nFrom: b@x\n\ntwo\n";
    crm_mbox_iter it;
    const char *msg;
    size_t len, off;

    (void)state;
    crm_mbox_iter_init(&it, tight, sizeof tight - 1);
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_int_equal(off, 0);
    assert_int_equal(len, strlen("From: a@x\n\none\n"));
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_int_equal(off, (size_t)(strstr(tight, "From b@x") - tight));
    assert_memory_equal(msg, "From: b@x\n\ntwo\n", len);
    assert_false(crm_mbox_next(&it, &msg, &len, &off));
}

static void a_from_inside_a_line_is_not_a_separator(void **state)
{
    static const char one[] =
        "From a@x Wed May  1 10:00:00 2024\nFrom: a@x\n\nquoted: From here on\n  From there\n";
    crm_mbox_iter it;
    const char *msg;
    size_t len, off;

    (void)state;
    crm_mbox_iter_init(&it, one, sizeof one - 1);
    assert_true(crm_mbox_next(&it, &msg, &len, &off));
    assert_false(crm_mbox_next(&it, &msg, &len, &off));
}

static void unescaping_leaves_other_quoted_lines_alone(void **state)
{
    static const char in[] = ">From a\n>>>From b\n> From c\n>Fromage\nFrom d";
    size_t out_len;
    char *out = crm_mbox_unescape(in, sizeof in - 1, &out_len);

    (void)state;
    assert_string_equal(out, "From a\n>>From b\n> From c\n>Fromage\nFrom d");
    assert_int_equal(out_len, strlen(out));
    g_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_messages_come_out_with_their_offsets),
        cmocka_unit_test(separator_blank_line_is_not_part_of_the_message),
        cmocka_unit_test(escaped_from_lines_are_restored),
        cmocka_unit_test(a_mail_file_is_not_an_mbox),
        cmocka_unit_test(last_message_loses_the_writers_blank_line_too),
        cmocka_unit_test(a_from_line_without_a_blank_line_before_it_still_separates),
        cmocka_unit_test(a_from_inside_a_line_is_not_a_separator),
        cmocka_unit_test(unescaping_leaves_other_quoted_lines_alone),
    };
    return cmocka_run_group_tests_name("mbox", tests, NULL, NULL);
}
