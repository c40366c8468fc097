/*
 * NAME
 *	html_text 3h - readable plain text from HTML mail bodies
 * DESCRIPTION
 *	crm_html_to_text() parses HTML with libxml2's HTML parser (never by
 *	hand) and renders the text a reader would see: block elements start
 *	new lines, <br> breaks lines, <li> gets "- ", <a href> keeps its text,
 *	script/style/head content is dropped, whitespace is collapsed and
 *	entities decoded. Pure; bounded by max_out bytes of output.
 * OWNERSHIP
 *	Returns a g_malloc()ed valid UTF-8 string (possibly ""), or NULL
 *	only when memory runs out. The caller g_free()s it.
 */
#ifndef CRM_HTML_TEXT_H
#define CRM_HTML_TEXT_H

#include <stddef.h>

char *crm_html_to_text(const char *html, size_t len, size_t max_out);

#endif
