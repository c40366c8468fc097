/*
 * NAME
 *	dropbox_trust 3h - whose mail may reach a workspace's BCC dropbox
 * DESCRIPTION
 *	A dropbox address is no secret (it sits in the BCC of every logged
 *	mail), so a workspace with dropbox senders "users" (the default)
 *	takes mail only when its envelope sender (MAIL FROM) or its header
 *	From is one of the workspace's users. A forward is judged by the
 *	rep who forwards it (the outer From and envelope), not by the
 *	customer whose mail it carries. "anyone" takes every sender.
 *
 *	Anybody can write a user's address into MAIL FROM and From. When the
 *	mail carries Authentication-Results from a trusted authserv-id (the
 *	front MTA, configured in trusted_authserv_ids), the address relied
 *	on must also have been authenticated there: the From address by
 *	dmarc=pass with header.from its domain, or dkim=pass with header.d
 *	(or header.i) in the same registrable domain; the envelope sender by
 *	spf=pass with smtp.mailfrom the address or its domain. Any other
 *	verdict (fail, softfail, none, temperror, ...) is no authentication.
 *	Fields from other authserv-ids are ignored: anybody can forge them.
 *	Without any trusted field the user address alone decides: the front
 *	MTA should then be trusted to have checked it.
 *
 *	crm_dropbox_sender() names the sender the loop breaker counts: the
 *	outer From, else the envelope sender, lower case.
 *
 *	Pure: the workspace snapshot, the parsed message and the envelope in,
 *	a verdict out.
 */
#ifndef CRM_DROPBOX_TRUST_H
#define CRM_DROPBOX_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_results.h"
#include "mail_message.h"
#include "workspace.h"

typedef struct crm_trust_input {
    const char *envelope_from;		/* MAIL FROM path; "" or NULL for <> */
    const crm_address_list *from;	/* the (outer) header From; may be NULL */
    crm_auth_results *const *auth;	/* every Authentication-Results field */
    size_t n_auth;
    char *const *trusted_ids;		/* lower-case authserv-ids; NULL-terminated or NULL */
} crm_trust_input;

/* True when the mail may reach ws's dropbox; otherwise why says so in
 * one line of printable ASCII, naming the sender and the workspace:
 * "sender bob@evil.example is not a user of workspace acme (dropbox
 * senders: users)". */
bool crm_dropbox_trusted(const crm_workspace *ws, const crm_trust_input *in,
                         char *why, size_t whylen);

/* The sender the loop breaker counts, g_malloc()ed, or NULL when the
 * mail names none. */
char *crm_dropbox_sender(const char *envelope_from, const crm_address_list *from);

/* "a, b, c" -> NULL-terminated lower-case list (g_strfreev()); empty
 * items dropped. NULL or "" gives NULL. */
char **crm_dropbox_trusted_ids(const char *list);

#endif
