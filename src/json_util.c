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
