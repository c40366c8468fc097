/*
 * NAME
 *	smtp_command 3h - read one SMTP or LMTP command line
 * DESCRIPTION
 *	crm_smtp_parse() takes one command line as the client sent it, CRLF
 *	already removed, and says what it asks for (RFC 5321 section 4.1,
 *	RFC 2033 for LHLO): the verb, the HELO/EHLO/LHLO domain, the MAIL or
 *	RCPT path with its ESMTP parameters (SIZE, BODY, SMTPUTF8). Verbs are
 *	case-insensitive; the common "MAIL FROM: <a@b>" (a space after the
 *	colon) is accepted, a source route (<@relay:a@b>) is dropped.
 *
 *	Pure and bounded: no I/O, no allocation beyond the struct's copies,
 *	lines longer than CRM_SMTP_MAX_COMMAND are refused. What the server
 *	answers stays the server's business; the status says which kind of
 *	refusal RFC 5321 calls for.
 * OWNERSHIP
 *	crm_smtp_command_clear() frees the strings a command holds.
 */
#ifndef CRM_SMTP_COMMAND_H
#define CRM_SMTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.4: 512 octets with CRLF; ESMTP parameters may add
 * more (4.5.3.1.4 allows extensions to raise it), so allow 2048. */
#define CRM_SMTP_MAX_COMMAND	2048
#define CRM_SMTP_MAX_PATH	256	/* RFC 5321 4.5.3.1.3 */

typedef enum crm_smtp_verb {
    CRM_SMTP_HELO, CRM_SMTP_EHLO, CRM_SMTP_LHLO, CRM_SMTP_MAIL, CRM_SMTP_RCPT,
    CRM_SMTP_DATA, CRM_SMTP_RSET, CRM_SMTP_NOOP, CRM_SMTP_QUIT, CRM_SMTP_VRFY,
    CRM_SMTP_EXPN, CRM_SMTP_HELP, CRM_SMTP_STARTTLS, CRM_SMTP_UNKNOWN
} crm_smtp_verb;

typedef enum crm_smtp_status {
    CRM_SMTP_OK = 0,
    CRM_SMTP_UNRECOGNISED,	/* 500 5.5.1: no such command */
    CRM_SMTP_TOO_LONG,		/* 500 5.5.2: line too long */
    CRM_SMTP_SYNTAX,		/* 501 5.5.4: bad arguments */
    CRM_SMTP_BAD_PARAMETER	/* 555 5.5.4: unknown or bad MAIL/RCPT parameter */
} crm_smtp_status;

typedef struct crm_smtp_command {
    crm_smtp_verb verb;
    char *domain;		/* HELO/EHLO/LHLO argument, or NULL */
    char *path;			/* MAIL/RCPT address without <>; "" for <> */
    bool has_size;
    uint64_t size;		/* SIZE= of MAIL */
    bool body_8bit;		/* BODY=8BITMIME */
    bool smtputf8;		/* SMTPUTF8 */
} crm_smtp_command;

crm_smtp_status crm_smtp_parse(const char *line, size_t len, crm_smtp_command *cmd,
                               char *err, size_t errlen);
void crm_smtp_command_clear(crm_smtp_command *cmd);

#endif
