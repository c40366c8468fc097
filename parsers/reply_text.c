/*
 * NAME
 *	reply_text 3 - the new content of a mail: quotes and signatures cut
 * DESCRIPTION
 *	See reply_text.h. The body is split into lines once; every test
 *	below looks at a line and at most a few lines after it, through a
 *	bounded normalised copy (lower case ASCII, no '*' bold marks, runs
 *	of blanks and no-break spaces as one space, no space before ':'),
 *	so the clients' spacing habits ("De :", "a écrit :", "*From:*")
 *	compare alike and the whole pass stays linear. The copy is made
 *	only for the lines a test can match: one whose first or last
 *	visible character could begin or end a cue (most lines of text
 *	cannot, and neither can blank or quoted lines).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "reply_text.h"
#include "utf8.h"

#define NORM_CAP	512	/* header lines are short; longer ones never match */
#define ATTR_MAX_LINES	3	/* Gmail wraps a long "On ... wrote:" line */
#define ATTR_MAX_BYTES	400
#define HEADER_WINDOW	10	/* lines after "From:" searched for the rest */
#define SIGNOFF_MAX	80	/* "Sent from my iPhone" is a short line */

typedef struct line {
    const char *s;
    size_t n;			/* without the line end (LF or CRLF) */
    char *z;			/* room for its normalised copy (see above) */
    size_t zn;			/* ZN_UNSET until norm_line() made the copy */
} line;

#define ZN_UNSET	SIZE_MAX

typedef struct norm {
    char buf[NORM_CAP];
    size_t len;
} norm;

/* The length of the space at s[i..n) (blank, tab, U+00A0, or U+202F of
 * French typography before ':'), 0 if none. */
static size_t space_at(const char *s, size_t i, size_t n)
{
    unsigned char c = (unsigned char)s[i];

    if (c == ' ' || c == '\t')
        return 1;
    if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0)
        return 2;
    if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0xAF)
        return 3;
    return 0;
}

/* What normalising drops or folds to one space at s[i..n): a space or
 * a '*' bold mark; its length, 0 if none. */
static size_t blank_at(const char *s, size_t i, size_t n)
{
    return s[i] == '*' ? 1 : space_at(s, i, n);
}

static void norm_add(norm *z, const char *s, size_t n)
{
    for (size_t i = 0; i < n && z->len < NORM_CAP - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t space = space_at(s, i, n);

        if (space > 0) {
            i += space - 1;
            if (z->len > 0 && z->buf[z->len - 1] != ' ')
                z->buf[z->len++] = ' ';
            continue;
        }
        if (c == '*')
            continue;
        if (c == ':' && z->len > 0 && z->buf[z->len - 1] == ' ')
            z->len--;
        z->buf[z->len++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    z->buf[z->len] = '\0';
}

static void norm_end(norm *z)
{
    while (z->len > 0 && z->buf[z->len - 1] == ' ')
        z->len--;
    z->buf[z->len] = '\0';
}

/* A line's normalised copy, made when a test first asks for it; the
 * tests read it in place, or a norm buffer where lines are joined; both
 * are NUL-terminated. */
static const char *norm_line(line *l)
{
    if (l->zn == ZN_UNSET) {
        norm z = { .len = 0 };
        norm_add(&z, l->s, l->n);
        norm_end(&z);
        memcpy(l->z, z.buf, z.len + 1);	/* fits: see split_lines */
        l->zn = z.len;
    }
    return l->z;
}

/* Whether a test on this line can match, from its raw bytes: the
 * normalised copy of a cue starts with one of these (sent, get, gesendet,
 * outlook, obtenir, on, envoyé, enviado, el, von, from, de, am, le, the
 * dashes of a separator) or ends with ':' (an attribution). */
static bool may_be_cue(const line *l)
{
    size_t i = 0, b, e = l->n;

    while (i < e && (b = blank_at(l->s, i, e)) > 0)
        i += b;
    if (i < e && strchr("sgoevfdal-", g_ascii_tolower(l->s[i])) != NULL)
        return true;
    /* trailing blanks, read backwards: the multi-byte ones end in A0/AF */
    while (e > i) {
        unsigned char c = (unsigned char)l->s[e - 1];
        if (c == ' ' || c == '\t' || c == '*')
            e--;
        else if (c == 0xA0 && e - i >= 2 && (unsigned char)l->s[e - 2] == 0xC2)
            e -= 2;
        else if (c == 0xAF && e - i >= 3 && (unsigned char)l->s[e - 3] == 0xE2 &&
                 (unsigned char)l->s[e - 2] == 0x80)
            e -= 3;
        else
            break;
    }
    return e > i && l->s[e - 1] == ':';
}

/* The first byte decides for nearly every line; strncmp only then. */
static bool starts(const char *z, const char *p)
{
    return z[0] == p[0] && strncmp(z, p, strlen(p)) == 0;
}

static bool ends(const char *z, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(z + len - n, p, n) == 0;
}

static bool is_blank(const line *l)
{
    size_t i = 0, b;

    while (i < l->n && (b = blank_at(l->s, i, l->n)) > 0)
        i += b;
    return i == l->n;
}

static bool is_quoted(const line *l)
{
    size_t i = 0;
    while (i < l->n && (l->s[i] == ' ' || l->s[i] == '\t'))
        i++;
    return i < l->n && l->s[i] == '>';
}

/* "-----Original Message-----" and the forms Outlook and Thunderbird
 * write in German, French and Spanish. */
static bool is_separator(line *l)
{
    static const char *const names[] = {
        "original message", "ursprüngliche nachricht", "original-nachricht",
        "originalnachricht", "message d'origine", "message original",
        "mensaje original", NULL
    };
    const char *z = norm_line(l);
    size_t a = 0, b;

    while (a < l->zn && (z[a] == '-' || z[a] == ' '))
        a++;
    if (a < 2)
        return false;
    b = l->zn;
    while (b > a && (z[b - 1] == '-' || z[b - 1] == ' '))
        b--;
    for (int i = 0; names[i] != NULL; i++)
        if (b - a == strlen(names[i]) && memcmp(z + a, names[i], b - a) == 0)
            return true;
    return false;
}

/* A line of only '_' or '-' (Outlook's rule above its header block). */
static bool is_rule(const line *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->s[i] == '_' || l->s[i] == '-')
            k++;
        else if (l->s[i] != ' ' && l->s[i] != '\t' && l->s[i] != '\r')
            return false;
    }
    return k >= 10;
}

static bool is_sig_dash(const line *l)
{
    return (l->n == 3 && memcmp(l->s, "-- ", 3) == 0) || (l->n == 2 && memcmp(l->s, "--", 2) == 0);
}

/* The sign-off a phone client appends; the quote usually follows it. */
static bool is_signoff(line *l)
{
    static const char *const prefixes[] = {
        "sent from my ", "sent from outlook", "sent from mail for windows",
        "sent from yahoo mail", "get outlook for ios", "get outlook for android",
        "gesendet von meinem ", "gesendet mit der ", "outlook für ios", "outlook für android",
        "envoyé de mon ", "envoyé depuis mon ", "obtenir outlook pour ios",
        "obtenir outlook pour android",
        "enviado desde mi ", "enviado desde outlook", "obtener outlook para ios",
        "obtener outlook para android", NULL
    };
    if (l->n > SIGNOFF_MAX)
        return false;
    norm_line(l);
    if (starts(l->z, "von meinem ") && ends(l->z, l->zn, "gesendet"))
        return true;
    for (int i = 0; prefixes[i] != NULL; i++)
        if (starts(l->z, prefixes[i]))
            return true;
    return false;
}

/* Outlook's header block: a From line, then within a few lines a
 * Subject and a Sent/Date or To line, in one of the four languages. */
enum { K_NONE, K_FROM, K_SENT, K_TO, K_SUBJECT, K_CC };

static int header_key(line *l)
{
    static const struct { const char *key; int kind; } keys[] = {
        { "from:", K_FROM }, { "von:", K_FROM }, { "de:", K_FROM },
        { "sent:", K_SENT }, { "date:", K_SENT }, { "gesendet:", K_SENT },
        { "datum:", K_SENT }, { "envoyé:", K_SENT }, { "enviado:", K_SENT },
        { "fecha:", K_SENT }, { "enviado el:", K_SENT },
        { "to:", K_TO }, { "an:", K_TO }, { "à:", K_TO }, { "para:", K_TO },
        { "subject:", K_SUBJECT }, { "betreff:", K_SUBJECT }, { "objet:", K_SUBJECT },
        { "asunto:", K_SUBJECT },
        { "cc:", K_CC }, { "kopie:", K_CC }, { "copie:", K_CC }, { NULL, K_NONE }
    };
    /* Outlook writes its header block flush left; an indented one is
     * a listing in the text, such as the headers a bounce reports */
    if (l->n > NORM_CAP * 4 || (l->n > 0 && (l->s[0] == ' ' || l->s[0] == '\t')))
        return K_NONE;
    norm_line(l);
    for (int i = 0; keys[i].key != NULL; i++)
        if (starts(l->z, keys[i].key))
            return keys[i].kind;
    return K_NONE;
}

static bool is_header_block(line *lines, size_t n, size_t i)
{
    bool sent = false, to = false, subject = false;

    if (header_key(&lines[i]) != K_FROM)
        return false;
    for (size_t j = i + 1; j < n && j <= i + HEADER_WINDOW; j++) {
        switch (header_key(&lines[j])) {
        case K_SENT: sent = true; break;
        case K_TO: to = true; break;
        case K_SUBJECT: subject = true; break;
        default: break;
        }
    }
    return subject && (sent || to);
}

/* Attribution lines: "On ... wrote:", "Am ... schrieb ...:",
 * "Le ... a écrit :", "El ... escribió:". strict asks for the opening
 * word and a digit (a date), for lines that cut without a quote below. */
static bool is_attribution_text(const norm *z, bool strict)
{
    bool digit = false;

    if (z->len == 0 || z->buf[z->len - 1] != ':' || z->len > ATTR_MAX_BYTES)
        return false;
    for (size_t i = 0; i < z->len; i++)
        if (g_ascii_isdigit(z->buf[i]))
            digit = true;
    if (ends(z->buf, z->len, " wrote:") && (!strict || starts(z->buf, "on ")))
        return !strict || digit;
    if (ends(z->buf, z->len, " a écrit:") && (!strict || starts(z->buf, "le ")))
        return !strict || digit;
    if (ends(z->buf, z->len, " escribió:") && (!strict || starts(z->buf, "el ")))
        return !strict || digit;
    /* German puts the name after the verb: "... um 10:02 schrieb John <j@x>:" */
    if ((ends(z->buf, z->len, " schrieb:") || strstr(z->buf, " schrieb ") != NULL) &&
        (!strict || starts(z->buf, "am ")))
        return !strict || digit;
    return false;
}

static bool opens_attribution(const char *z)
{
    return starts(z, "on ") || starts(z, "am ") || starts(z, "le ") || starts(z, "el ");
}

/* How many lines from i form an attribution (0: none). */
static size_t attribution_at(line *lines, size_t n, size_t i, bool strict)
{
    norm z = { .len = 0 };

    z.buf[0] = '\0';
    for (size_t k = 0; k < ATTR_MAX_LINES && i + k < n; k++) {
        line *l = &lines[i + k];
        if (is_quoted(l) || is_blank(l) || l->n > ATTR_MAX_BYTES)
            return 0;
        /* only a line that opens like an attribution continues on the
         * next; "Thanks!" above "John <j@x> wrote:" is text */
        if (k == 1 && !opens_attribution(z.buf))
            return 0;
        if (k == 0) {
            norm_line(l);
            /* a first line that neither ends an attribution nor opens
             * one that continues below: most lines, decided here */
            if (l->z[l->zn - 1] != ':' && !opens_attribution(l->z))
                return 0;
            /* the lines are joined here: a buffer, seeded with the first */
            memcpy(z.buf, l->z, l->zn + 1);	/* zn < NORM_CAP, as norm_line made it */
            z.len = l->zn;
        } else {
            if (z.len > 0 && z.buf[z.len - 1] != ' ' && z.buf[z.len - 1] != '<')
                norm_add(&z, " ", 1);
            norm_add(&z, l->s, l->n);
            norm_end(&z);
        }
        if (is_attribution_text(&z, strict))
            return k + 1;
    }
    return 0;
}

static bool quote_follows(const line *lines, size_t n, size_t j)
{
    while (j < n && is_blank(&lines[j]))
        j++;
    return j < n && is_quoted(&lines[j]);
}

/* The lines of text, each with room for its normalised copy in *norms
 * (g_free() it after the lines). A copy is never longer than its line:
 * line i's room starts i bytes after the line does in text, and has
 * the line's length and a NUL. */
static GArray *split_lines(const char *text, size_t len, char **norms)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(line));
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            line l = { text + start, i - start, NULL, ZN_UNSET };
            if (l.n > 0 && l.s[l.n - 1] == '\r')
                l.n--;
            if (i < len || l.n > 0)
                g_array_append_val(a, l);
            start = i + 1;
        }
    }
    *norms = g_malloc(len + a->len + 1);
    for (guint i = 0; i < a->len; i++) {
        line *l = &g_array_index(a, line, i);
        l->z = *norms + (l->s - text) + i;
    }
    return a;
}

/* A copy of s that is valid UTF-8 (an embedded NUL, which
 * crm_utf8_valid() refuses, ends it early: that is fine). */
static char *valid_dup(const char *s, size_t n)
{
    return crm_utf8_valid(s, n) ? g_strndup(s, n) : g_utf8_make_valid(s, (gssize)n);
}

/* whole_when_empty: crm_reply_text(); else crm_reply_cut(), which
 * says in *nothing_cut why it returns NULL. */
static char *reply_cut(const char *text, size_t len, bool whole_when_empty, bool *nothing_cut)
{
    GArray *arr;
    char *norms = NULL;
    line *lines;
    size_t n, cut;
    bool *drop;
    bool quoting = false;
    GString *out;

    *nothing_cut = false;
    if (text == NULL || len == 0)
        return whole_when_empty ? g_strdup("") : NULL;
    arr = split_lines(text, len, &norms);
    lines = (line *)(void *)arr->data;
    n = arr->len;
    cut = n;
    drop = g_new0(bool, n + 1);

    for (size_t i = 0; i < n; i++) {
        line *l = &lines[i];
        size_t k;

        bool cue;

        if (drop[i] || is_quoted(l))
            continue;
        cue = may_be_cue(l);
        if (is_sig_dash(l) ||
            (cue && (is_signoff(l) || is_separator(l) || is_header_block(lines, n, i)))) {
            cut = i;
            break;
        }
        /* a rule heading an Outlook header block goes with the block */
        if (is_rule(l)) {
            size_t j = i + 1;
            while (j < n && is_blank(&lines[j]))
                j++;
            if (j < n && is_header_block(lines, n, j)) {
                cut = i;
                break;
            }
        }
        if (!cue)
            continue;
        if ((k = attribution_at(lines, n, i, false)) > 0 && quote_follows(lines, n, i + k)) {
            /* it introduces a quote: the answers below it may be new text */
            for (size_t j = i; j < i + k; j++)
                drop[j] = true;
            quoting = true;
            continue;
        }
        if (attribution_at(lines, n, i, true) > 0) {
            cut = i;
            break;
        }
    }

    /* Without an attribution, '>' lines are a quote when they are more
     * than one line or close the text; a single one amid the writer's
     * own lines ("> 20 seats get the discount") is text. */
    for (size_t i = 0; i < cut && !quoting;) {
        size_t j = i;
        if (!is_quoted(&lines[i])) {
            i++;
            continue;
        }
        while (j < cut && is_quoted(&lines[j]))
            j++;
        if (j - i >= 2)
            quoting = true;
        else {
            size_t k = j;
            while (k < cut && is_blank(&lines[k]))
                k++;
            if (k == cut)
                quoting = true;
        }
        i = j;
    }

    {
        bool pending_blank = false;
        size_t end = cut, removed = 0;

        /* the rule or blank lines just above the cut are not content */
        while (end > 0 && (is_blank(&lines[end - 1]) || is_rule(&lines[end - 1]) ||
                           drop[end - 1] || (quoting && is_quoted(&lines[end - 1]))))
            end--;
        for (size_t i = 0; i < end; i++)
            if (drop[i] || (quoting && is_quoted(&lines[i])))
                removed++;
        for (size_t i = end; i < n && removed == 0; i++)
            if (!is_blank(&lines[i]))
                removed++;
        /* nothing cut: out stays NULL, and the caller gets the text as
         * it came or, from crm_reply_cut(), word that it is the answer */
        out = removed == 0 ? NULL : g_string_sized_new(len + 1);
        for (size_t i = 0; i < end && out != NULL; i++) {
            line *l = &lines[i];
            if (drop[i] || (quoting && is_quoted(l)))
                continue;
            if (is_blank(l)) {
                pending_blank = out->len > 0;
                continue;
            }
            if (pending_blank)
                g_string_append(out, "\n\n");
            else if (out->len > 0)
                g_string_append_c(out, '\n');
            pending_blank = false;
            g_string_append_len(out, l->s, (gssize)l->n);
        }
    }
    g_free(drop);
    g_array_free(arr, TRUE);
    g_free(norms);

    if (out == NULL) {
        *nothing_cut = true;
        return whole_when_empty ? valid_dup(text, len) : NULL;
    }
    if (out->len == 0) {
        /* a reply with nothing new */
        g_string_free(out, TRUE);
        return whole_when_empty ? valid_dup(text, len) : NULL;
    }
    if (crm_utf8_valid(out->str, out->len))
        return g_string_free(out, FALSE);
    {
        char *r = g_utf8_make_valid(out->str, (gssize)out->len);
        g_string_free(out, TRUE);
        return r;
    }
}

char *crm_reply_text(const char *text, size_t len)
{
    bool nothing_cut;

    return reply_cut(text, len, true, &nothing_cut);
}

char *crm_reply_cut(const char *text, size_t len, bool *nothing_cut)
{
    return reply_cut(text, len, false, nothing_cut);
}
