/*
 * NAME
 *	json_util 3h - the jansson idioms crmgate repeats
 * DESCRIPTION
 *	Rows and settings travel as JSON text; these keep the repair of
 *	strings and the move from jansson's malloc to glib's in one place.
 */
#ifndef CRM_JSON_UTIL_H
#define CRM_JSON_UTIL_H

#include <glib.h>
#include <jansson.h>

/* A JSON string, or null for NULL. The parsers promise valid UTF-8;
 * should a string still be refused, it is repaired rather than lost. */
json_t *crm_json_string(const char *s);

/* s appended to out as a JSON string, null for NULL, as jansson's
 * compact dump writes it: '"', '\\' and control characters escaped,
 * other UTF-8 as it is, invalid UTF-8 repaired. For rows written per
 * mail, where building jansson objects cost more than the text. */
void crm_json_append_string(GString *out, const char *s);

/* o as compact text with sorted keys, g_malloc()ed ("null" if it cannot
 * be written). o is not released. */
char *crm_json_dump(const json_t *o);

/* The string member key of o, g_strdup()ed; NULL when missing or empty. */
char *crm_json_member(const json_t *o, const char *key);

#endif
