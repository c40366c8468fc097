/*
 * NAME
 *	mail_message 3h - parse one RFC 5322 message into a plain struct
 * SYNOPSIS
 *	#include "mail_message.h"
 * DESCRIPTION
 *	crm_message_parse() turns the raw bytes of one message (LF or CRLF
 *	line ends) into a crm_message: decoded headers (RFC 2047/2231),
 *	addresses, identifiers, the date, the body as valid UTF-8 text,
 *	attachments with their bytes and SHA-256, text/calendar parts, and
 *	the automatic-mail verdict (auto-reply, bounce with the bounced
 *	recipients). A leading mbox envelope line ("From addr date") is
 *	skipped: it is not part of the message.
 *
 *	Pure: no database, no network, no files, no global state besides
 *	gmime's one-time g_mime_init() (call crm_parsers_init() once).
 *	Every string in the result is valid UTF-8 without NUL bytes, so it
 *	can be handed to PostgreSQL as is.
 * LIMITS
 *	crm_parse_limits bounds size, header count, MIME depth, part count
 *	and kept text. crm_parse_limits_default() fills the defaults.
 * DIAGNOSTICS
 *	Returns CRM_PARSE_OK and sets *out, or another status, leaves *out
 *	NULL and writes a one-line human reason into err (always
 *	NUL-terminated when errlen > 0). Never aborts on bad input.
 * OWNERSHIP
 *	The caller frees *out with crm_message_free(). All strings inside
 *	belong to the message.
 */
#ifndef CRM_MAIL_MESSAGE_H
#define CRM_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRM_DEFAULT_MAX_MESSAGE_BYTES	(64u * 1024 * 1024)
#define CRM_DEFAULT_MAX_HEADERS		2000u
#define CRM_DEFAULT_MAX_MIME_DEPTH	32u
#define CRM_DEFAULT_MAX_PARTS		1000u
#define CRM_DEFAULT_MAX_TEXT_BYTES	(1024u * 1024)

typedef struct crm_parse_limits {
    size_t   max_message_bytes;	/* whole raw message */
    unsigned max_headers;	/* header fields in any one header block */
    unsigned max_mime_depth;	/* nesting of multiparts/message parts */
    unsigned max_parts;		/* MIME parts in the whole message */
    size_t   max_text_bytes;	/* body text kept; longer is truncated */
} crm_parse_limits;

typedef enum crm_parse_status {
    CRM_PARSE_OK = 0,
    CRM_PARSE_TOO_LARGE,
    CRM_PARSE_TOO_MANY_HEADERS,
    CRM_PARSE_TOO_DEEP,
    CRM_PARSE_TOO_MANY_PARTS,
    CRM_PARSE_NOT_A_MESSAGE,	/* empty, binary, or no header block */
    CRM_PARSE_NOMEM
} crm_parse_status;

typedef struct crm_address {
    char *name;			/* decoded display name, or NULL */
    char *email;		/* addr-spec as written, trimmed; never NULL */
} crm_address;

typedef struct crm_address_list {
    crm_address *items;		/* groups are flattened into their members */
    size_t count;
} crm_address_list;

typedef struct crm_attachment {
    char *filename;		/* decoded, or NULL when the part has none */
    char *content_type;		/* "type/subtype", lower case */
    unsigned char *data;	/* transfer-decoded bytes */
    size_t size;
    char sha256_hex[65];
} crm_attachment;

typedef struct crm_calendar_part {
    char *method;		/* METHOD parameter upper-cased, or NULL */
    char *data;			/* decoded iCalendar text, UTF-8 */
    size_t len;
} crm_calendar_part;

typedef enum crm_auto_kind {
    CRM_AUTO_NONE = 0,		/* a human conversation */
    CRM_AUTO_REPLY,		/* RFC 3834 Auto-Submitted, X-Autoreply, ... */
    CRM_AUTO_BOUNCE		/* a delivery status notification */
} crm_auto_kind;

typedef struct crm_bounce_recipient {
    char *email;		/* Final-Recipient address */
    char *status;		/* "5.1.1", or NULL */
    char *action;		/* "failed", "delayed", ... lower case, or NULL */
    char *diagnostic;		/* Diagnostic-Code text, or NULL */
} crm_bounce_recipient;

typedef struct crm_message {
    char *message_id;		/* without <>, trimmed; NULL when absent */
    char *in_reply_to;		/* likewise */
    char **references;		/* message ids without <> */
    size_t n_references;
    char *subject;		/* decoded; NULL when absent */

    bool has_date;		/* Date: parsed */
    int64_t date;		/* unix seconds, UTC */
    bool has_received_date;	/* date of the top-most Received: */
    int64_t received_date;

    crm_address_list from, sender, to, cc, bcc, reply_to;
    char *list_id;		/* List-Id, or NULL */

    char *body_text;		/* never NULL; "" when no text part */
    bool body_from_html;	/* text came from an HTML part */
    bool body_truncated;	/* cut at max_text_bytes */
    char *body_new_text;	/* never NULL: what the writer wrote in this
				 * mail, quotes and signatures cut
				 * (reply_text 3h); body_text itself (the
				 * same pointer) when that is the whole body
				 * or leaves nothing */

    crm_attachment *attachments;
    size_t n_attachments;
    crm_calendar_part *calendar_parts;
    size_t n_calendar_parts;

    crm_auto_kind auto_kind;
    char *auto_reason;		/* e.g. "Auto-Submitted: auto-replied" */
    crm_bounce_recipient *bounces;
    size_t n_bounces;

    char raw_sha256_hex[65];	/* !crm_message_has_id(): SHA-256 of the
				 * raw bytes, CRLF folded to LF; else "" */
    unsigned header_count;	/* top-level header fields */
    unsigned part_count;
    unsigned mime_depth;
} crm_message;

/* Call once per process before any parse; idempotent. */
void crm_parsers_init(void);

void crm_parse_limits_default(crm_parse_limits *lim);

crm_parse_status crm_message_parse(const char *raw, size_t len,
                                   const crm_parse_limits *lim,
                                   crm_message **out,
                                   char *err, size_t errlen);

void crm_message_free(crm_message *msg);

const char *crm_parse_status_str(crm_parse_status st);

/* Whether the mail names itself (a Message-ID that is not empty). A
 * mail that does not is known by its bytes: only then is
 * raw_sha256_hex filled. */
bool crm_message_has_id(const crm_message *m);

/* True when the bytes start like an RFC 5322 header block (a field name
 * followed by ':' on the first line, or a "Return-Path"/"Received" line);
 * used to tell a message file from anything else without parsing it. */
bool crm_message_sniff(const char *data, size_t len);

/* SHA-256 of raw bytes with every CRLF folded to LF, as hex. The same
 * mail from SMTP (CRLF) and from a Maildir file (LF) hashes alike. */
void crm_raw_sha256_hex(const char *raw, size_t len, char out[65]);

#endif
