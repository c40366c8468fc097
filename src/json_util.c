/*
 * NAME
 *	json_util 3 - the jansson idioms crmgate repeats
 * DESCRIPTION
 *	See json_util.h.
 */
#include <stdlib.h>
#include <glib.h>

#include "json_util.h"

json_t *crm_json_string(const char *s)
{
    json_t *j;

    if (s == NULL)
        return json_null();
    j = json_string(s);
    if (j == NULL) {
        char *fixed = g_utf8_make_valid(s, -1);
        j = json_string(fixed);
        g_free(fixed);
    }
    return j != NULL ? j : json_null();
}

void crm_json_append_string(GString *out, const char *s)
{
    char *fixed = NULL;
    const char *p, *run;

    if (s == NULL) {
        g_string_append(out, "null");
        return;
    }
    if (!g_utf8_validate(s, -1, NULL))
        s = fixed = g_utf8_make_valid(s, -1);
    g_string_append_c(out, '"');
    for (p = run = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        g_string_append_len(out, run, p - run);
        run = p + 1;
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default: g_string_append_printf(out, "\\u%04x", c); break;
        }
    }
    g_string_append_len(out, run, p - run);
    g_string_append_c(out, '"');
    g_free(fixed);
}

char *crm_json_dump(const json_t *o)
{
    char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *copy = g_strdup(out != NULL ? out : "null");

    free(out);
    return copy;
}

char *crm_json_member(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL && *v ? g_strdup(v) : NULL;
}
