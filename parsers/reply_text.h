/*
 * NAME
 *	reply_text 3h - the new content of a mail: quotes and signatures cut
 * DESCRIPTION
 *	crm_reply_text() takes a plain-text mail body (UTF-8, LF or CRLF)
 *	and returns what its writer wrote in this message, for embedding:
 *
 *	- everything from the first reply header on is cut: the separator
 *	  lines of Outlook ("-----Original Message-----" and its German,
 *	  French and Spanish forms, a "____" line heading a header block),
 *	  Outlook header blocks ("From: ... Sent: ... To: ... Subject:" and
 *	  the Von/Gesendet/An/Betreff, De/Envoyé/À/Objet,
 *	  De/Enviado/Para/Asunto forms), and attribution lines of Gmail,
 *	  Apple Mail and Thunderbird ("On ... wrote:", "Am ... schrieb ...:",
 *	  "Le ... a écrit :", "El ... escribió:"), also when the client
 *	  wrapped them over up to three lines;
 *	- ">"-quoted lines are dropped, but the unquoted lines between them
 *	  stay, so an inline (interleaved) answer keeps its answers. An
 *	  attribution line that introduces such a quote is dropped with it
 *	  instead of cutting the rest. A lone ">" line inside the text with
 *	  no attribution and no other quote ("> 20 seats ...") is the
 *	  writer's own text and stays;
 *	- the signature is cut: the RFC 3676 "-- " line and phone sign-offs
 *	  ("Sent from my iPhone", "Von meinem iPhone gesendet", "Envoyé de
 *	  mon iPhone", "Enviado desde mi iPhone", "Get Outlook for iOS"...).
 *
 *	Leading and trailing blank lines of the result are removed. When
 *	nothing is cut, the input is returned byte for byte (so a caller can
 *	see the text is unchanged); when nothing is left (a reply without
 *	new text), the whole input is returned too, so there is always
 *	something to embed.
 *
 *	crm_reply_cut() is the same for a caller that has the whole text
 *	already: it returns NULL, and copies nothing, when nothing is cut
 *	(*nothing_cut true: the input is the answer, so the caller needs no
 *	copy or compare to learn it) or when nothing new is left or the
 *	input is empty (*nothing_cut false: fall back on a better whole).
 *
 *	Pure and linear in the input: each line is looked at with a bounded
 *	look-ahead. Any bytes are accepted; the result is valid UTF-8.
 * OWNERSHIP
 *	Returns a g_malloc()ed string (possibly "" for an empty input) that
 *	the caller g_free()s; crm_reply_cut() may return NULL. text may be
 *	NULL when len is 0.
 */
#ifndef CRM_REPLY_TEXT_H
#define CRM_REPLY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

char *crm_reply_text(const char *text, size_t len);
char *crm_reply_cut(const char *text, size_t len, bool *nothing_cut);

#endif
