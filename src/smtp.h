/*
 * NAME
 *	smtp 3h - the SMTP and LMTP dropbox listener
 * DESCRIPTION
 *	Receives mail for the workspaces' dropbox addresses (RFC 5321 SMTP
 *	with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8, and
 *	STARTTLS (RFC 3207, GIO's GnuTLS backend) when tls_cert is set; RFC
 *	2033 LMTP with one reply per recipient after DATA). A recipient that
 *	is no dropbox gets 550 5.1.1: crmgate is never a relay and sends
 *	nothing anywhere. A message is answered 250 only after its rows are
 *	committed (committer.h); while the database is unreachable the answer
 *	is 451 4.3.0, so the sender retries.
 *
 *	Each session runs in a thread of a pool of max_connections threads,
 *	with blocking I/O bounded by smtp_timeout, so an idle client holds
 *	only its own thread. Limits, with the reply they give: message size
 *	(552 5.3.4), recipients (452 4.5.3), command line length (500
 *	5.5.2), sessions in all and per client address (421).
 * OWNERSHIP
 *	crm_smtp_server_free() after crm_smtp_server_stop().
 */
#ifndef CRM_SMTP_H
#define CRM_SMTP_H

#include <stddef.h>

#include "committer.h"
#include "config.h"

typedef struct crm_smtp_server crm_smtp_server;

/* Binds the configured listeners (smtp_listen, lmtp_listen). */
crm_smtp_server *crm_smtp_server_new(const crm_config *cfg, crm_committer *committer,
                                     char *err, size_t errlen);
/* SIGHUP: new sessions take the new limits, hostname and certificate;
 * sessions in progress keep theirs. The listen addresses stay. */
int crm_smtp_server_reconfigure(crm_smtp_server *s, const crm_config *cfg,
                                char *err, size_t errlen);
/* Stop accepting, then wait up to timeout_s for sessions to finish.
 * Returns how many were still open. */
unsigned crm_smtp_server_stop(crm_smtp_server *s, unsigned timeout_s);
void crm_smtp_server_free(crm_smtp_server *s);

#endif
