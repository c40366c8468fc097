/*
 * NAME
 *	auth_results 3 - read Authentication-Results header fields (RFC 8601)
 * DESCRIPTION
 *	See auth_results.h. A cursor walks a cleaned copy of the value
 *	(printable ASCII and spaces only), so that no byte of the input can
 *	surprise the tokenizer; everything it keeps is a copy.
 */
#include <stdbool.h>
#include <string.h>

#include "auth_results.h"

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool at(const cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

/* CFWS: spaces and (possibly nested, possibly unterminated) comments. */
static void skip_cfws(cursor *c)
{
    for (;;) {
        while (c->p < c->end && *c->p == ' ')
            c->p++;
        if (!at(c, '('))
            return;
        unsigned depth = 0;
        while (c->p < c->end) {
            char ch = *c->p++;
            if (ch == '\\' && c->p < c->end)
                c->p++;
            else if (ch == '(')
                depth++;
            else if (ch == ')' && --depth == 0)
                break;
        }
    }
}

static bool is_delim(char ch, bool stop_at_eq)
{
    return ch == ' ' || ch == ';' || ch == '(' || ch == ')' || (stop_at_eq && ch == '=');
}

/* A token, a quoted string, or adjacent runs of both ("joe"@x.example);
 * "" when the cursor is on a delimiter. */
static char *read_word(cursor *c, bool stop_at_eq)
{
    GString *w = g_string_new(NULL);

    while (c->p < c->end) {
        if (*c->p == '"') {
            c->p++;
            while (c->p < c->end && *c->p != '"') {
                if (*c->p == '\\' && c->p + 1 < c->end)
                    c->p++;
                g_string_append_c(w, *c->p++);
            }
            if (c->p < c->end)
                c->p++;		/* the closing quote */
        } else if (is_delim(*c->p, stop_at_eq)) {
            break;
        } else {
            g_string_append_c(w, *c->p++);
        }
    }
    return g_string_free(w, FALSE);
}

static void skip_to_semicolon(cursor *c)
{
    while (c->p < c->end && *c->p != ';') {
        if (*c->p == '(' || *c->p == ' ') {
            skip_cfws(c);
        } else if (*c->p == '"') {
            g_free(read_word(c, false));
        } else {
            c->p++;
        }
    }
}

static void result_clear(crm_auth_result *r)
{
    g_free(r->method);
    g_free(r->result);
    g_free(r->reason);
    for (size_t i = 0; i < r->n_props; i++) {
        g_free(r->props[i].name);
        g_free(r->props[i].value);
    }
    g_free(r->props);
}

/* methodspec [reasonspec] *propspec, up to the next ';'. False when it
 * is no "method=result" (the "none" of a field without results, junk). */
static bool read_resinfo(cursor *c, crm_auth_result *r)
{
    char *key, *slash;

    memset(r, 0, sizeof *r);
    skip_cfws(c);
    key = read_word(c, true);
    skip_cfws(c);
    if (*key == '\0' || !at(c, '=')) {
        g_free(key);
        skip_to_semicolon(c);
        return false;
    }
    c->p++;
    skip_cfws(c);
    slash = strchr(key, '/');	/* "dkim/1": a method version */
    if (slash != NULL)
        *slash = '\0';
    g_strstrip(key);
    r->method = g_ascii_strdown(key, -1);
    g_free(key);
    key = read_word(c, false);
    r->result = g_ascii_strdown(key, -1);
    g_free(key);
    if (*r->method == '\0' || *r->result == '\0') {
        result_clear(r);
        skip_to_semicolon(c);
        return false;
    }
    r->props = g_new0(crm_auth_prop, CRM_AUTH_MAX_PROPS);
    for (;;) {
        char *name, *value;

        skip_cfws(c);
        if (c->p >= c->end || at(c, ';'))
            break;
        name = read_word(c, true);
        if (*name == '\0') {		/* a stray '=' or ')' */
            g_free(name);
            c->p++;
            continue;
        }
        skip_cfws(c);
        if (!at(c, '=')) {		/* a bare word: not a property */
            g_free(name);
            continue;
        }
        c->p++;
        skip_cfws(c);
        value = read_word(c, false);
        if (g_ascii_strcasecmp(name, "reason") == 0 && r->reason == NULL) {
            r->reason = value;
        } else if (r->n_props < CRM_AUTH_MAX_PROPS) {
            r->props[r->n_props].name = g_ascii_strdown(name, -1);
            r->props[r->n_props].value = value;
            r->n_props++;
        } else {
            g_free(value);
        }
        g_free(name);
    }
    return true;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!g_ascii_isdigit(*s))
            return false;
    return true;
}

crm_auth_results *crm_auth_results_parse(const char *value, size_t len)
{
    crm_auth_results *ar;
    char *clean, *id;
    cursor c;
    bool named = true;

    if (value == NULL || len == 0 || len > CRM_AUTH_MAX_VALUE)
        return NULL;
    /* folding whitespace becomes spaces; anything not printable ASCII
     * becomes '?', so every string kept can go into a log or a reply */
    clean = g_malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        clean[i] = ch == '\t' || ch == '\r' || ch == '\n' ? ' ' : ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
    }
    clean[len] = '\0';
    c.p = clean;
    c.end = clean + len;

    skip_cfws(&c);
    const char *start = c.p;
    id = read_word(&c, true);
    skip_cfws(&c);
    if (at(&c, '=')) {
        /* "spf=pass ...": no authserv-id at all (Microsoft 365) */
        g_free(id);
        id = g_strdup("");
        c.p = start;
        named = false;
    } else if (*id == '\0') {
        g_free(id);
        g_free(clean);
        return NULL;
    } else {
        const char *save = c.p;	/* an authres-version may follow */
        char *version = read_word(&c, true);
        if (!all_digits(version))
            c.p = save;
        g_free(version);
    }
    ar = g_new0(crm_auth_results, 1);
    ar->authserv_id = g_ascii_strdown(id, -1);
    g_free(id);
    ar->results = g_new0(crm_auth_result, CRM_AUTH_MAX_RESULTS);
    for (bool first = true;; first = false) {
        crm_auth_result r;

        skip_cfws(&c);
        if (c.p >= c.end)
            break;
        if (at(&c, ';'))
            c.p++;
        else if (!(first && !named)) {
            skip_to_semicolon(&c);	/* junk where a ';' belongs */
            continue;
        }
        if (!read_resinfo(&c, &r))
            continue;
        if (ar->n_results < CRM_AUTH_MAX_RESULTS)
            ar->results[ar->n_results++] = r;
        else
            result_clear(&r);
    }
    g_free(clean);
    return ar;
}

void crm_auth_results_free(crm_auth_results *ar)
{
    if (ar == NULL)
        return;
    for (size_t i = 0; i < ar->n_results; i++)
        result_clear(&ar->results[i]);
    g_free(ar->results);
    g_free(ar->authserv_id);
    g_free(ar);
}

const char *crm_auth_result_prop(const crm_auth_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_props; i++)
        if (strcmp(r->props[i].name, name) == 0)
            return r->props[i].value;
    return NULL;
}

#define FIELD_NAME	"Authentication-Results"

/* The value after "Authentication-Results:" when line starts that
 * field (the name, optional blanks, the colon), else NULL. */
static const char *field_value(const char *line, size_t n)
{
    size_t k = sizeof FIELD_NAME - 1;

    if (n < k || g_ascii_strncasecmp(line, FIELD_NAME, k) != 0)
        return NULL;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    return k < n && line[k] == ':' ? line + k + 1 : NULL;
}

GPtrArray *crm_auth_results_fields(const char *raw, size_t len)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *p = raw, *end = raw + len;
    GString *cur = NULL;	/* the field being collected */
    bool too_long = false;

    if (raw == NULL)
        return out;
    if (len >= 5 && memcmp(raw, "From ", 5) == 0) {	/* an mbox envelope line */
        const char *nl = memchr(p, '\n', len);
        p = nl != NULL ? nl + 1 : end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        size_t n = (size_t)(le - p);
        const char *v;

        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break;		/* the end of the header block */
        if (p[0] == ' ' || p[0] == '\t') {
            if (cur != NULL && !too_long) {
                g_string_append_len(cur, p, (gssize)n);
                too_long = cur->len > CRM_AUTH_MAX_VALUE;
            }
        } else {
            if (cur != NULL) {
                if (!too_long && out->len < CRM_AUTH_MAX_FIELDS)
                    g_ptr_array_add(out, g_string_free(cur, FALSE));
                else
                    g_string_free(cur, TRUE);
                cur = NULL;
            }
            v = field_value(p, n);
            if (v != NULL) {
                cur = g_string_new_len(v, (gssize)(n - (size_t)(v - p)));
                too_long = cur->len > CRM_AUTH_MAX_VALUE;
            }
        }
        p = nl != NULL ? nl + 1 : end;
    }
    if (cur != NULL) {
        if (!too_long && out->len < CRM_AUTH_MAX_FIELDS)
            g_ptr_array_add(out, g_string_free(cur, FALSE));
        else
            g_string_free(cur, TRUE);
    }
    return out;
}
