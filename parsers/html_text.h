/*
 * NAME
 *	html_text 3h - readable plain text from HTML mail bodies
 * DESCRIPTION
 *	crm_html_to_text() parses HTML with libxml2's HTML parser (never by
 *	hand) and renders the text a reader would see: block elements start
 *	new lines, <br> breaks lines, <li> gets "- ", <a href> keeps its text,
 *	script/style/head content is dropped, whitespace is collapsed and
 *	entities decoded. Pure; bounded by max_out bytes of output.
 *
 *	crm_html_to_new_text() renders the same text for the new content
 *	of a reply, to be cut further by reply_text 3h: each quote the mail
 *	clients wrap around the earlier mail (<blockquote type="cite"> of
 *	Apple Mail and Thunderbird, Gmail's <blockquote class="gmail_quote">,
 *	Yahoo's yahoo_quoted) is replaced by two lines of ">", so that the
 *	attribution line above it and the answers written between quotes
 *	are told apart as in a plain text reply; signature containers
 *	(gmail_signature, moz-signature, id="Signature") are dropped.
 *	Outlook writes no quote container but a header block, so rendering
 *	stops at its start and nothing after it is kept: <div
 *	id="divRplyFwdMsg">, <div id="appendonsend">, the "border-top:solid
 *	#E1E1E1" (or #B5C4DF) header <div> of Outlook desktop, and the
 *	reference message container of the new Outlook.
 * OWNERSHIP
 *	Returns a g_malloc()ed valid UTF-8 string (possibly ""), or NULL
 *	only when memory runs out. The caller g_free()s it.
 */
#ifndef CRM_HTML_TEXT_H
#define CRM_HTML_TEXT_H

#include <stddef.h>

char *crm_html_to_text(const char *html, size_t len, size_t max_out);
char *crm_html_to_new_text(const char *html, size_t len, size_t max_out);
/* Both, from one parse of the HTML (a mail body needs both). */
void crm_html_to_texts(const char *html, size_t len, size_t max_text, size_t max_new,
                       char **text, char **new_text);

#endif
