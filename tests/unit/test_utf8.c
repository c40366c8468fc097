/*
 * test_utf8 - crm_utf8_valid() says what g_utf8_validate() says
 *
 * The word-at-a-time skip over ASCII must hand glib every byte it has
 * not judged: a bad byte, a NUL or a cut sequence anywhere in a word, at
 * any offset, in text of any length, is still refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "utf8.h"

static void agrees(const char *s, size_t len)
{
    assert_int_equal(crm_utf8_valid(s, len), g_utf8_validate(s, (gssize)len, NULL));
}

static void known_answers(void **state)
{
    (void)state;
    assert_true(crm_utf8_valid("", 0));
    assert_true(crm_utf8_valid("plain ASCII text, longer than a word", 36));
    assert_true(crm_utf8_valid("Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen", 20));
    assert_false(crm_utf8_valid("Latin-1 after ASCII: caf\xe9", 25));
    assert_false(crm_utf8_valid("a NUL\0inside ASCII text", 23));
    assert_false(crm_utf8_valid("cut at the very end \xe2\x82", 22));
    assert_false(crm_utf8_valid("overlong slash \xc0\xaf here", 22));
}

/* Every position of one odd byte (or sequence) in ASCII of every length
 * up to three words and a bit, so that it falls in each lane of a word
 * and in the tail. */
static void one_odd_byte_anywhere(void **state)
{
    static const char *const odd[] = {
        "\xe9", "\0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x82", "\xc0\xaf",
        "\xed\xa0\x80", "\xff", "\x80",
    };
    static const size_t odd_len[] = { 1, 1, 2, 3, 4, 2, 2, 3, 1, 1 };
    char buf[64];

    (void)state;
    for (size_t k = 0; k < G_N_ELEMENTS(odd); k++)
        for (size_t len = odd_len[k]; len <= 30; len++)
            for (size_t at = 0; at + odd_len[k] <= len; at++) {
                memset(buf, 'a', len);
                memcpy(buf + at, odd[k], odd_len[k]);
                agrees(buf, len);
            }
}

static void random_text_agrees(void **state)
{
    GRand *r = g_rand_new_with_seed(20261128);
    char buf[256];

    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)g_rand_int_range(r, 0, sizeof buf);
        /* mostly ASCII, some high bytes and NULs, as mail is */
        for (size_t i = 0; i < len; i++) {
            guint32 dice = g_rand_int_range(r, 0, 100);
            buf[i] = (char)(dice < 90 ? g_rand_int_range(r, 0x20, 0x7f)
                            : dice < 99 ? g_rand_int_range(r, 0x80, 0x100) : 0);
        }
        agrees(buf, len);
    }
    g_rand_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(one_odd_byte_anywhere),
        cmocka_unit_test(random_text_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
