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
 *	crm_html_to_new_text() renders only what the writer of a reply
 *	wrote: the quote containers mail clients wrap around the earlier
 *	mail are dropped (Gmail's gmail_quote and gmail_extra, <blockquote
 *	type="cite"> of Apple Mail and Thunderbird, Thunderbird's
 *	moz-cite-prefix, Yahoo's yahoo_quoted), and so are the signature
 *	containers (gmail_signature, moz-signature, id="Signature").
 *	Outlook writes no container but a header block, so rendering stops
 *	at its start and nothing after it is kept: <div id="divRplyFwdMsg">,
 *	<div id="appendonsend">, the "border-top:solid #E1E1E1" (or
 *	#B5C4DF) header <div> of Outlook desktop, and the reference message
 *	container of the new Outlook.
 * OWNERSHIP
 *	Returns a g_malloc()ed valid UTF-8 string (possibly ""), or NULL
 *	only when memory runs out. The caller g_free()s it.
 */
#ifndef CRM_HTML_TEXT_H
#define CRM_HTML_TEXT_H

#include <stddef.h>

char *crm_html_to_text(const char *html, size_t len, size_t max_out);
char *crm_html_to_new_text(const char *html, size_t len, size_t max_out);

#endif
