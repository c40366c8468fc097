/*
 * NAME
 *	utf8 3h - is it valid UTF-8, quickly
 * DESCRIPTION
 *	crm_utf8_valid() says whether len bytes are valid UTF-8, as
 *	g_utf8_validate() does (a NUL byte is not valid), but steps over
 *	ASCII, most of any mail's text, eight bytes at a time: glib checks
 *	a byte at a time, and was a tenth of parsing a mail.
 */
#ifndef CRM_UTF8_H
#define CRM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool crm_utf8_valid(const char *s, size_t len);

#endif
