/*
 * test_reply_text - the AI reads what a mail adds, not the thread it quotes
 *
 * The fixtures in tests/data/replies/ reproduce the reply formats the
 * mail clients write (Gmail, Outlook desktop and web, Apple Mail,
 * Thunderbird; English, German, French, Spanish): plain bodies as .txt
 * for crm_reply_text(), HTML-only mails as .eml through the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <glib.h>

#include "fixture.h"

#include "html_text.h"
#include "mail_message.h"
#include "reply_text.h"

static char *load(const char *name, size_t *len)
{
    return test_fixture("replies", name, len);
}

static void expect_text(const char *file, const char *expected)
{
    size_t len;
    char *body = load(file, &len);
    char *t = crm_reply_text(body, len);

    assert_string_equal(t, expected);
    g_free(t);
    g_free(body);
}

/* The HTML-only mail goes through the parser: body_text keeps the whole
 * mail, body_new_text only the writer's part. */
static void expect_html(const char *file, const char *expected, const char *quoted)
{
    size_t len;
    char *raw = load(file, &len);
    crm_parse_limits lim;
    crm_message *m = NULL;
    char err[256];

    crm_parse_limits_default(&lim);
    assert_int_equal(crm_message_parse(raw, len, &lim, &m, err, sizeof err), CRM_PARSE_OK);
    assert_true(m->body_from_html);
    assert_non_null(strstr(m->body_text, quoted));
    assert_string_equal(m->body_new_text, expected);
    crm_message_free(m);
    g_free(raw);
}

#define PLAIN(fn, file, expected) \
    static void fn(void **state) { (void)state; expect_text(file, expected); }

/* ---- Gmail: the attribution line wraps when it is long ---------------- */
PLAIN(gmail_en_wrapped_attribution_and_quote_are_cut, "gmail-en.txt",
      "Hi John,\n\nTuesday at 3pm works for us. I'll send the invite.\n\nBest,\nMaria")
PLAIN(gmail_de_am_schrieb_is_cut, "gmail-de.txt",
      "Hallo John,\n\nDienstag um 15 Uhr passt uns. Ich schicke die Einladung.\n\nViele Grüße\nMaria")
PLAIN(gmail_fr_a_ecrit_wrapped_inside_the_verb_is_cut, "gmail-fr.txt",
      "Bonjour John,\n\nMardi à 15h nous convient. Je vous envoie l'invitation.\n\nCordialement,\nMaria")
PLAIN(gmail_es_escribio_is_cut, "gmail-es.txt",
      "Hola John,\n\nEl martes a las 15h nos viene bien. Te mando la invitación.\n\nSaludos,\nMaria")

/* ---- Outlook: unquoted original below a header block ----------------- */
PLAIN(outlook_en_header_block_cuts_the_unquoted_original, "outlook-en.txt",
      "Hi John,\n\nThe signed order form is attached. Please countersign by Friday.\n\n"
      "Kind regards,\nMaria Lopez\nAccount Executive | Vendor Inc.\n+1 555 0100")
PLAIN(outlook_de_urspruengliche_nachricht_with_crlf, "outlook-de.txt",
      "Hallo John,\n\nanbei das unterschriebene Bestellformular.\n\nGruß\nMaria")
PLAIN(outlook_web_fr_rule_and_nbsp_header_block, "outlook-fr-web.txt",
      "Bonjour John,\n\nVous trouverez le bon de commande signé en pièce jointe.\n\nBien à vous,\nMaria")
PLAIN(outlook_fr_message_d_origine, "outlook-fr-original.txt",
      "Bonjour John,\n\nLe contrat révisé suit demain.\n\nMaria")
PLAIN(outlook_es_enviado_el_header_block, "outlook-es.txt",
      "Hola John,\n\nAdjunto el formulario de pedido firmado.\n\nUn saludo,\nMaria")
PLAIN(outlook_es_mensaje_original, "outlook-es-original.txt",
      "Hola John,\n\nEl contrato revisado llega mañana.\n\nMaria")
PLAIN(outlook_mobile_get_outlook_for_android_and_rule, "outlook-mobile.txt",
      "Approved, go ahead.")

/* ---- Apple Mail -------------------------------------------------------- */
PLAIN(apple_ios_en_sent_from_my_iphone_and_quoted_attribution, "apple-ios-en.txt",
      "Sounds good, see you at the booth.")
PLAIN(apple_mac_en_quoted_attribution, "apple-mac-en.txt",
      "Sounds good, see you at the booth.")
PLAIN(apple_de_von_meinem_iphone_gesendet, "apple-de.txt",
      "Klingt gut, bis Donnerstag am Stand.")
PLAIN(apple_fr_a_ecrit_with_nbsp_colon, "apple-fr.txt",
      "Parfait, à jeudi sur le stand.")
PLAIN(apple_es_enviado_desde_mi_iphone, "apple-es.txt",
      "Perfecto, nos vemos el jueves en el stand.")

/* ---- Thunderbird ------------------------------------------------------ */
PLAIN(thunderbird_en_signature_dash_line_and_quote, "thunderbird-en.txt",
      "Hi John,\n\nWe can offer 15% off for a three-year term.")
PLAIN(thunderbird_de_am_um_schrieb, "thunderbird-de.txt",
      "Hallo John,\n\nbei drei Jahren Laufzeit geben wir 15 % Rabatt.")
PLAIN(thunderbird_fr_le_a_ecrit, "thunderbird-fr.txt",
      "Bonjour John,\n\nPour trois ans, nous accordons 15 % de remise.")
PLAIN(thunderbird_es_el_escribio, "thunderbird-es.txt",
      "Hola John,\n\nPor tres años ofrecemos un 15 % de descuento.")

/* ---- quotes that are not a trailing block ----------------------------- */
PLAIN(interleaved_answers_stay_and_quotes_go, "interleaved.txt",
      "Yes, Tuesday at 2pm.\n\nOur counsel will dial in.")
PLAIN(trailing_quote_without_attribution_goes, "trailing-quote.txt",
      "Agreed, let's go with option B.")
static void expect_unchanged(const char *file)
{
    size_t len;
    char *body = load(file, &len);
    char *t = crm_reply_text(body, len);

    assert_string_equal(t, body);
    g_free(t);
    g_free(body);
}

/* A single '>' line amid the writer's own lines, with no attribution and
 * no other quote, is a "greater than" of the writer: it stays. */
static void lone_greater_than_line_inside_the_text_stays(void **state)
{
    (void)state;
    expect_unchanged("lone-gt.txt");
}

static void header_words_in_prose_do_not_cut(void **state)
{
    (void)state;
    expect_unchanged("not-a-header.txt");
}

static void a_reply_with_nothing_new_keeps_the_whole_text(void **state)
{
    (void)state;
    expect_unchanged("no-new-text.txt");
}

/* The store keeps the embedding text only when it differs from the
 * content: a mail with nothing to cut must come back byte for byte. */
static void a_mail_with_nothing_to_cut_comes_back_unchanged(void **state)
{
    const char *s = "Hello John,\r\n\r\nthe budget is approved.\r\n\r\n";
    char *t = crm_reply_text(s, strlen(s));

    (void)state;
    assert_string_equal(t, s);
    g_free(t);
}

static void signature_only_message_keeps_its_text(void **state)
{
    const char *s = "-- \nMaria Lopez\nVendor Inc.\n";
    char *t = crm_reply_text(s, strlen(s));

    (void)state;
    assert_string_equal(t, s);
    g_free(t);
}

static void an_indented_header_listing_is_text(void **state)
{
    const char *s = "This report relates to a message you sent with these headers:\n\n"
                    "  From: Ian <ian@initech.example>\n  To: Sales <sales@vendor.example>\n"
                    "  Subject: Order\n\nReason: recipient reached disk quota\n";
    char *t = crm_reply_text(s, strlen(s));

    (void)state;
    assert_string_equal(t, s);
    g_free(t);
}

static void the_line_above_a_one_line_attribution_stays(void **state)
{
    const char *s = "Thanks, signed.\nJohn Smith <john.smith@initech.example> wrote:\n> Please sign.\n";
    char *t = crm_reply_text(s, strlen(s));

    (void)state;
    assert_string_equal(t, "Thanks, signed.");
    g_free(t);
}

static void wrote_in_prose_without_a_date_or_quote_does_not_cut(void **state)
{
    const char *s = "On second thought, here is what legal wrote:\nthe cap stays at 1M.";
    char *t = crm_reply_text(s, strlen(s));

    (void)state;
    assert_string_equal(t, s);
    g_free(t);
}

/* ---- HTML-only mail, through the parser ------------------------------ */
static void gmail_html_quote_and_signature_containers_are_dropped(void **state)
{
    (void)state;
    expect_html("gmail-en.html.eml", "Hi John,\n\nTuesday at 3pm works for us.",
                "Could we move the renewal call");
}

static void apple_html_blockquote_cite_is_dropped(void **state)
{
    (void)state;
    expect_html("apple-de.html.eml", "Klingt gut, bis Donnerstag am Stand.",
                "Bist du am Donnerstag auf der Messe?");
}

static void thunderbird_html_cite_prefix_and_moz_signature_are_dropped(void **state)
{
    (void)state;
    expect_html("thunderbird-fr.html.eml",
                "Bonjour John,\n\nPour trois ans, nous accordons 15 % de remise.",
                "Y a-t-il une remise");
}

static void outlook_web_html_stops_at_appendonsend(void **state)
{
    (void)state;
    expect_html("outlook-web-es.html.eml", "Hola John, adjunto el formulario de pedido firmado.",
                "Envíame el formulario");
}

static void outlook_desktop_html_stops_at_the_border_top_header(void **state)
{
    (void)state;
    expect_html("outlook-desktop-en.html.eml", "Hi John,\n\nThe signed order form is attached.",
                "Please send the order form");
}

static void html_with_only_a_quote_keeps_the_whole_body(void **state)
{
    (void)state;
    expect_html("gmail-quote-only.html.eml",
                "On Tue, Mar 12, 2024 at 10:02 AM John Smith wrote:\n"
                "Please confirm the delivery address.",
                "Please confirm the delivery address.");
}

static void plain_mail_through_the_parser_keeps_the_full_body_too(void **state)
{
    const char *raw =
        "From: Maria <maria@vendor.example>\nTo: john@initech.example\nSubject: Re: Call\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Tuesday works.\n\nOn Tue, Mar 12, 2024 at 10:02 AM John <john@initech.example> wrote:\n"
        "> Can we talk on Tuesday?\n";
    crm_parse_limits lim;
    crm_message *m = NULL;
    char err[128];

    (void)state;
    crm_parse_limits_default(&lim);
    assert_int_equal(crm_message_parse(raw, strlen(raw), &lim, &m, err, sizeof err), CRM_PARSE_OK);
    assert_non_null(strstr(m->body_text, "> Can we talk on Tuesday?"));
    assert_string_equal(m->body_new_text, "Tuesday works.");
    crm_message_free(m);
}

static void gmail_html_inline_answers_stay(void **state)
{
    (void)state;
    expect_html("gmail-inline.html.eml",
                "Answers inline.\nYes, Tuesday at 2pm.\n\nOur counsel will dial in.",
                "And can legal join?");
}

static void thunderbird_html_inline_answers_stay(void **state)
{
    (void)state;
    expect_html("thunderbird-inline-de.html.eml",
                "Ja, Dienstag um 14 Uhr.\n\nUnsere Justiziarin wählt sich ein.",
                "Kann die Rechtsabteilung dazukommen?");
}

/* The full rendering keeps the quote; the new-text one marks where it was. */
static void html_full_rendering_is_unchanged_by_the_new_mode(void **state)
{
    const char *h = "<p>new</p><blockquote type=\"cite\">old</blockquote>"
                    "<div class=\"gmail_signature\">Maria</div>";
    char *full = crm_html_to_text(h, strlen(h), 1 << 20);
    char *fresh = crm_html_to_new_text(h, strlen(h), 1 << 20);

    (void)state;
    assert_string_equal(full, "new\nold\n\nMaria");
    assert_string_equal(fresh, "new\n>\n>");
    g_free(full);
    g_free(fresh);
}

/* ---- hostile input ---------------------------------------------------- */
static void garbage_and_huge_input_never_crash_and_stay_linear(void **state)
{
    GRand *r = g_rand_new_with_seed(8);
    size_t n = 4u * 1024 * 1024;
    char *buf = g_malloc(n);
    clock_t t0 = clock();
    char *t;

    (void)state;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)g_rand_int_range(r, 0, 256);
    t = crm_reply_text(buf, n);
    assert_non_null(t);
    assert_true(g_utf8_validate(t, -1, NULL));
    g_free(t);

    /* a million lines that each almost look like a header */
    {
        GString *s = g_string_new(NULL);
        while (s->len < n)
            g_string_append(s, "On 1\nFrom: x\n> a\n--\xc2\xa0\n\nAm 1 schrieb\n");
        t = crm_reply_text(s->str, s->len);
        assert_non_null(t);
        g_free(t);
        g_string_free(s, TRUE);
    }
    /* one line of 4 MiB, no line end at all */
    memset(buf, 'a', n);
    t = crm_reply_text(buf, n);
    assert_int_equal(strlen(t), n);
    g_free(t);

    t = crm_reply_text(NULL, 0);
    assert_string_equal(t, "");
    g_free(t);
    t = crm_reply_text("\0\0>\0", 4);
    assert_non_null(t);
    g_free(t);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);
    g_free(buf);
    g_rand_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gmail_en_wrapped_attribution_and_quote_are_cut),
        cmocka_unit_test(gmail_de_am_schrieb_is_cut),
        cmocka_unit_test(gmail_fr_a_ecrit_wrapped_inside_the_verb_is_cut),
        cmocka_unit_test(gmail_es_escribio_is_cut),
        cmocka_unit_test(outlook_en_header_block_cuts_the_unquoted_original),
        cmocka_unit_test(outlook_de_urspruengliche_nachricht_with_crlf),
        cmocka_unit_test(outlook_web_fr_rule_and_nbsp_header_block),
        cmocka_unit_test(outlook_fr_message_d_origine),
        cmocka_unit_test(outlook_es_enviado_el_header_block),
        cmocka_unit_test(outlook_es_mensaje_original),
        cmocka_unit_test(outlook_mobile_get_outlook_for_android_and_rule),
        cmocka_unit_test(apple_ios_en_sent_from_my_iphone_and_quoted_attribution),
        cmocka_unit_test(apple_mac_en_quoted_attribution),
        cmocka_unit_test(apple_de_von_meinem_iphone_gesendet),
        cmocka_unit_test(apple_fr_a_ecrit_with_nbsp_colon),
        cmocka_unit_test(apple_es_enviado_desde_mi_iphone),
        cmocka_unit_test(thunderbird_en_signature_dash_line_and_quote),
        cmocka_unit_test(thunderbird_de_am_um_schrieb),
        cmocka_unit_test(thunderbird_fr_le_a_ecrit),
        cmocka_unit_test(thunderbird_es_el_escribio),
        cmocka_unit_test(interleaved_answers_stay_and_quotes_go),
        cmocka_unit_test(trailing_quote_without_attribution_goes),
        cmocka_unit_test(lone_greater_than_line_inside_the_text_stays),
        cmocka_unit_test(header_words_in_prose_do_not_cut),
        cmocka_unit_test(a_reply_with_nothing_new_keeps_the_whole_text),
        cmocka_unit_test(a_mail_with_nothing_to_cut_comes_back_unchanged),
        cmocka_unit_test(signature_only_message_keeps_its_text),
        cmocka_unit_test(an_indented_header_listing_is_text),
        cmocka_unit_test(the_line_above_a_one_line_attribution_stays),
        cmocka_unit_test(wrote_in_prose_without_a_date_or_quote_does_not_cut),
        cmocka_unit_test(gmail_html_quote_and_signature_containers_are_dropped),
        cmocka_unit_test(apple_html_blockquote_cite_is_dropped),
        cmocka_unit_test(thunderbird_html_cite_prefix_and_moz_signature_are_dropped),
        cmocka_unit_test(outlook_web_html_stops_at_appendonsend),
        cmocka_unit_test(outlook_desktop_html_stops_at_the_border_top_header),
        cmocka_unit_test(html_with_only_a_quote_keeps_the_whole_body),
        cmocka_unit_test(plain_mail_through_the_parser_keeps_the_full_body_too),
        cmocka_unit_test(gmail_html_inline_answers_stay),
        cmocka_unit_test(thunderbird_html_inline_answers_stay),
        cmocka_unit_test(html_full_rendering_is_unchanged_by_the_new_mode),
        cmocka_unit_test(garbage_and_huge_input_never_crash_and_stay_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
