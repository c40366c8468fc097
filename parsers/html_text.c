/*
 * NAME
 *	html_text 3 - readable plain text from HTML mail bodies
 * DESCRIPTION
 *	See html_text.h. libxml2's HTML parser builds the tree (it copes with
 *	the tag soup mail clients write); the walk below is iterative with an
 *	explicit stack, so hostile nesting costs heap, bounded by the input,
 *	never the C stack.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html_text.h"

typedef struct render {
    GString *out;
    size_t max;
    bool space_pending;		/* collapse runs of white space */
    int newlines;		/* trailing newlines already written */
} render;

static bool is_block(const char *name)
{
    static const char *const blocks[] = {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr",
        "blockquote", "pre", "section", "article", "header", "footer", "address",
        "hr", "dl", "dt", "dd", "center", "form", "fieldset", "body", "html", NULL
    };
    for (int i = 0; blocks[i] != NULL; i++)
        if (g_ascii_strcasecmp(name, blocks[i]) == 0)
            return true;
    return false;
}

static bool is_skipped(const char *name)
{
    return g_ascii_strcasecmp(name, "script") == 0 || g_ascii_strcasecmp(name, "style") == 0 ||
           g_ascii_strcasecmp(name, "head") == 0 || g_ascii_strcasecmp(name, "title") == 0 ||
           g_ascii_strcasecmp(name, "noscript") == 0 || g_ascii_strcasecmp(name, "template") == 0;
}

static bool full(const render *r)
{
    return r->out->len >= r->max;
}

static void put_newlines(render *r, int want)
{
    if (r->out->len == 0)
        return;			/* no leading blank lines */
    while (r->newlines < want && !full(r)) {
        g_string_append_c(r->out, '\n');
        r->newlines++;
    }
    r->space_pending = false;
}

static void put_text(render *r, const char *text)
{
    for (const char *p = text; *p && !full(r); p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            r->space_pending = true;
            continue;
        }
        /* U+00A0 (&nbsp;) reads as a space */
        if (c == 0xC2 && (unsigned char)p[1] == 0xA0) {
            r->space_pending = true;
            p++;
            continue;
        }
        if (r->space_pending && r->newlines == 0 && r->out->len > 0)
            g_string_append_c(r->out, ' ');
        r->space_pending = false;
        g_string_append_c(r->out, (char)c);
        r->newlines = 0;
    }
}

/* Quote and signature containers of the mail clients (html_text.h). */
/* Quote and signature containers of the mail clients (html_text.h). A
 * quote leaves a mark (Q_MARK) so that an answer written between two
 * quotes still reads as an answer in reply_text. */
typedef enum quote_verdict { Q_KEEP, Q_SKIP, Q_MARK, Q_STOP } quote_verdict;

static bool has_class(xmlNode *n, const char *const *names)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"class");
    bool found = false;

    if (v == NULL)
        return false;
    {
        char **tokens = g_strsplit_set((const char *)v, " \t\r\n\f", -1);
        for (int i = 0; tokens[i] != NULL && !found; i++)
            for (int j = 0; names[j] != NULL && !found; j++)
                found = g_ascii_strcasecmp(tokens[i], names[j]) == 0;
        g_strfreev(tokens);
    }
    xmlFree(v);
    return found;
}

static bool attr_is(xmlNode *n, const char *attr, const char *const *values)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
    bool found = false;

    if (v == NULL)
        return false;
    for (int j = 0; values[j] != NULL && !found; j++)
        found = g_ascii_strcasecmp((const char *)v, values[j]) == 0;
    xmlFree(v);
    return found;
}

/* Outlook desktop's header block: <div style="border:none;border-top:solid
 * #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"> (#B5C4DF in older versions). */
static bool is_outlook_header_div(xmlNode *n)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)"style");
    GString *c;
    bool found;

    if (v == NULL)
        return false;
    c = g_string_new(NULL);
    for (const char *p = (const char *)v; *p; p++)
        if (!g_ascii_isspace(*p))
            g_string_append_c(c, g_ascii_tolower(*p));
    xmlFree(v);
    found = strstr(c->str, "border-top:solid#e1e1e1") != NULL ||
            strstr(c->str, "border-top:solid#b5c4df") != NULL;
    g_string_free(c, TRUE);
    return found;
}

static quote_verdict quote_container(xmlNode *n)
{
    static const char *const quote_classes[] = { "gmail_quote", "yahoo_quoted", NULL };
    static const char *const sig_classes[] = { "gmail_signature", "moz-signature", NULL };
    static const char *const sig_ids[] = { "Signature", NULL };
    static const char *const stop_ids[] = {
        "divRplyFwdMsg", "appendonsend", "mail-editor-reference-message-container", NULL
    };
    static const char *const cite[] = { "cite", NULL };
    const char *name = (const char *)n->name;
    bool is_div = g_ascii_strcasecmp(name, "div") == 0;

    if (attr_is(n, "id", stop_ids))
        return Q_STOP;
    if (is_div && is_outlook_header_div(n))
        return Q_STOP;
    if (has_class(n, sig_classes) || attr_is(n, "id", sig_ids))
        return Q_SKIP;
    if (g_ascii_strcasecmp(name, "blockquote") == 0 &&
        (attr_is(n, "type", cite) || has_class(n, quote_classes)))
        return Q_MARK;
    /* Gmail's <div class="gmail_quote"> holds the attribution line and,
     * after an inline reply, the answers too: only its blockquotes go */
    if (!is_div && has_class(n, quote_classes))
        return Q_MARK;
    return Q_KEEP;
}

/* Two '>' lines: reply_text reads them as a quote, however short. */
static void put_quote_mark(render *r)
{
    put_newlines(r, 1);
    if (r->out->len + 4 > r->max)
        return;
    if (r->out->len > 0 && r->newlines == 0)
        g_string_append_c(r->out, '\n');
    g_string_append(r->out, ">\n>\n");
    r->newlines = 1;
    r->space_pending = false;
}

typedef struct frame {
    xmlNode *node;
    bool leaving;		/* second visit: after the children */
} frame;

/* Push siblings from the last back to the first, so they pop in order. */
static void push_children(GArray *stack, xmlNode *last)
{
    for (xmlNode *c = last; c != NULL; c = c->prev) {
        frame f = { c, false };
        g_array_append_val(stack, f);
    }
}

/* The document of an HTML body, or NULL for nothing readable. */
static htmlDocPtr parse_html(const char *html, size_t len)
{
    if (html == NULL || len == 0 || len > INT_MAX)
        return NULL;
    /* The caller hands us UTF-8 (mail_message converted the part's
     * charset already): a <meta charset> inside must not re-decode it.
     * No network, no error output, and recover from any tag soup. */
    return htmlReadMemory(html, (int)len, NULL, "UTF-8",
                          HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                          HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | HTML_PARSE_COMPACT |
                          HTML_PARSE_IGNORE_ENC);
}

/* The text of a parsed document; len: the HTML's size, a hint. */
static char *render_doc(htmlDocPtr doc, size_t len, size_t max_out, bool new_only)
{
    render r = { 0 };
    GArray *stack;

    if (doc == NULL)
        return g_strdup("");
    r.out = g_string_sized_new(MIN(len, max_out));
    r.max = max_out;
    stack = g_array_new(FALSE, FALSE, sizeof(frame));

    push_children(stack, doc->last);

    while (stack->len > 0 && !full(&r)) {
        frame f = g_array_index(stack, frame, stack->len - 1);
        xmlNode *n = f.node;
        const char *name = (const char *)n->name;

        g_array_set_size(stack, stack->len - 1);
        if (f.leaving) {
            if (is_block(name) || g_ascii_strcasecmp(name, "li") == 0)
                put_newlines(&r, g_ascii_strcasecmp(name, "p") == 0 ||
                                 g_ascii_strcasecmp(name, "blockquote") == 0 ? 2 : 1);
            continue;
        }
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content != NULL)
                put_text(&r, (const char *)n->content);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || name == NULL || is_skipped(name))
            continue;
        if (new_only) {
            quote_verdict v = quote_container(n);
            if (v == Q_STOP)
                break;		/* Outlook: the earlier mail follows to the end */
            if (v == Q_SKIP)
                continue;
            if (v == Q_MARK) {
                put_quote_mark(&r);
                continue;
            }
        }
        if (g_ascii_strcasecmp(name, "br") == 0) {
            if (r.out->len > 0 && !full(&r)) {
                g_string_append_c(r.out, '\n');
                r.newlines++;
                r.space_pending = false;
            }
            continue;
        }
        if (g_ascii_strcasecmp(name, "li") == 0) {
            put_newlines(&r, 1);
            if (!full(&r)) {
                g_string_append(r.out, "- ");
                r.newlines = 0;
            }
        } else if (g_ascii_strcasecmp(name, "td") == 0 || g_ascii_strcasecmp(name, "th") == 0) {
            r.space_pending = true;
        } else if (is_block(name)) {
            put_newlines(&r, g_ascii_strcasecmp(name, "p") == 0 ? 2 : 1);
        }
        {
            frame leave = { n, true };
            g_array_append_val(stack, leave);
            push_children(stack, n->last);
        }
    }
    g_array_free(stack, TRUE);

    /* cut at max_out, then drop a character the cut left incomplete */
    if (r.out->len > max_out)
        g_string_truncate(r.out, max_out);
    {
        const char *valid_end;
        if (!g_utf8_validate(r.out->str, (gssize)r.out->len, &valid_end) &&
            (size_t)(r.out->len - (size_t)(valid_end - r.out->str)) < 4)
            g_string_truncate(r.out, (gsize)(valid_end - r.out->str));
    }
    while (r.out->len > 0 && g_ascii_isspace(r.out->str[r.out->len - 1]))
        g_string_truncate(r.out, r.out->len - 1);
    {
        char *s = g_string_free(r.out, FALSE);
        if (!g_utf8_validate(s, -1, NULL)) {
            char *v = g_utf8_make_valid(s, -1);
            g_free(s);
            s = v;
        }
        return s;
    }
}

static char *render_html(const char *html, size_t len, size_t max_out, bool new_only)
{
    htmlDocPtr doc = parse_html(html, len);
    char *text = render_doc(doc, len, max_out, new_only);

    if (doc != NULL)
        xmlFreeDoc(doc);
    return text;
}

char *crm_html_to_text(const char *html, size_t len, size_t max_out)
{
    return render_html(html, len, max_out, false);
}

char *crm_html_to_new_text(const char *html, size_t len, size_t max_out)
{
    return render_html(html, len, max_out, true);
}

void crm_html_to_texts(const char *html, size_t len, size_t max_text, size_t max_new,
                       char **text, char **new_text)
{
    htmlDocPtr doc = parse_html(html, len);

    *text = render_doc(doc, len, max_text, false);
    *new_text = render_doc(doc, len, max_new, true);
    if (doc != NULL)
        xmlFreeDoc(doc);
}
