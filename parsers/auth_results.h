/*
 * NAME
 *	auth_results 3h - read Authentication-Results header fields (RFC 8601)
 * SYNOPSIS
 *	#include "auth_results.h"
 * DESCRIPTION
 *	An MTA that checks SPF, DKIM and DMARC records its verdicts in an
 *	Authentication-Results field:
 *
 *	    Authentication-Results: mx.google.com;
 *	        dkim=pass header.i=@example.com header.s=s1;
 *	        spf=pass (google.com: ...) smtp.mailfrom=alice@example.com;
 *	        dmarc=pass (p=NONE) header.from=example.com
 *
 *	crm_auth_results_fields() finds the values of every such field of a
 *	message's top-level header block, unfolded, in the order written.
 *	crm_auth_results_parse() reads one value into the authserv-id (who
 *	checked) and one crm_auth_result per method: "dkim", "pass" and its
 *	properties ("header.i" -> "@example.com"). Comments are skipped,
 *	quoted strings unquoted, method versions ("dkim/1") dropped. A
 *	field without an authserv-id (Microsoft 365 writes none) gets "",
 *	which no configuration can name. Non-standard items ("action=none")
 *	are kept as properties without a dot.
 *
 *	Whether a verdict is believed is not decided here: anybody can write
 *	this header. The caller believes only fields whose authserv-id is
 *	its own front MTA's, which must remove such fields arriving from
 *	outside (RFC 8601 section 5).
 *
 *	Pure: no database, no network, no global state.
 * LIMITS
 *	Values over CRM_AUTH_MAX_VALUE bytes are not read (NULL); at most
 *	CRM_AUTH_MAX_RESULTS results per field and CRM_AUTH_MAX_PROPS
 *	properties per result are kept, at most CRM_AUTH_MAX_FIELDS fields
 *	per message. Hostile input never crashes: what cannot be read is
 *	skipped. Every string is printable ASCII.
 * OWNERSHIP
 *	crm_auth_results_free() frees a parsed field; the field list is a
 *	GPtrArray of g_malloc()ed strings that frees them.
 */
#ifndef CRM_AUTH_RESULTS_H
#define CRM_AUTH_RESULTS_H

#include <stddef.h>
#include <glib.h>

#define CRM_AUTH_MAX_VALUE	16384
#define CRM_AUTH_MAX_RESULTS	32
#define CRM_AUTH_MAX_PROPS	16
#define CRM_AUTH_MAX_FIELDS	64

typedef struct crm_auth_prop {
    char *name;			/* "header.from", "smtp.mailfrom", lower case */
    char *value;		/* as written, unquoted */
} crm_auth_prop;

typedef struct crm_auth_result {
    char *method;		/* "spf", "dkim", "dmarc", ... lower case */
    char *result;		/* "pass", "fail", "none", ... lower case */
    char *reason;		/* reason=..., or NULL */
    crm_auth_prop *props;
    size_t n_props;
} crm_auth_result;

typedef struct crm_auth_results {
    char *authserv_id;		/* lower case; "" when the field names none */
    crm_auth_result *results;
    size_t n_results;
} crm_auth_results;

/* One field's value (after "Authentication-Results:"); NULL when it is
 * empty, over CRM_AUTH_MAX_VALUE or not even an authserv-id. */
crm_auth_results *crm_auth_results_parse(const char *value, size_t len);
void crm_auth_results_free(crm_auth_results *ar);

/* The value of property name (lower case) of r, or NULL. */
const char *crm_auth_result_prop(const crm_auth_result *r, const char *name);

/* The unfolded values of the Authentication-Results fields of the
 * message's top-level header block (raw bytes, LF or CRLF). */
GPtrArray *crm_auth_results_fields(const char *raw, size_t len);

#endif
