/*
 * NAME
 *	committer 3h - group commit for the mail listeners
 * DESCRIPTION
 *	Connections hand parsed mail to one committer thread and wait. The
 *	thread takes everything that is waiting (up to CRM_COMMIT_MAX_GROUP
 *	mails), prepares each mail's rows for every workspace it was sent to
 *	(prepare.h), and stores them with one transaction per workspace, so
 *	that fifty clients cost a few commits, not fifty. A delivery returns
 *	only when its rows are committed, or with a temporary failure when
 *	the database cannot be reached (the caller answers 4xx and the sender
 *	retries; duplicates are harmless: dedup keys).
 *
 *	Before anything is stored, each workspace judges the sender
 *	(dropbox_trust.h): one that may not use its dropbox gets
 *	CRM_DELIVERY_UNTRUSTED with the reason. With all_or_nothing (SMTP,
 *	one answer for all recipients) one such workspace refuses the mail
 *	for all of them, so that nothing is stored for a mail that is then
 *	refused. The loop breaker counts what is stored per workspace and
 *	sender (crm_dropbox_sender()): beyond dropbox_loop_limit within
 *	dropbox_loop_window seconds, a mail is CRM_DELIVERY_THROTTLED
 *	(accepted, not stored, the reason names the sender and the count).
 *	Its count is taken before the mail is stored and given back when
 *	the mail turns out a duplicate or is not stored; a crash between
 *	the two leaves it counted, which errs on the side of throttling.
 *
 *	The thread owns the only database connection of the listeners: it
 *	also keeps the dropbox routes (address -> workspace), reloaded every
 *	CRM_ROUTE_REFRESH_S seconds, and reconnects after a failure.
 * OWNERSHIP
 *	crm_committer_free() lets the thread finish what it holds, then stops.
 */
#ifndef CRM_COMMITTER_H
#define CRM_COMMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "auth_results.h"
#include "config.h"
#include "mail_message.h"

#define CRM_COMMIT_MAX_GROUP	256
#define CRM_ROUTE_REFRESH_S	5

typedef enum crm_delivery_status {
    CRM_DELIVERY_STORED,
    CRM_DELIVERY_DUPLICATE,
    CRM_DELIVERY_SKIPPED,	/* automatic mail: accepted, not logged */
    CRM_DELIVERY_REJECTED,	/* permanent: the reason says why */
    CRM_DELIVERY_TEMPFAIL,	/* the database is unreachable: retry later */
    CRM_DELIVERY_UNTRUSTED,	/* the sender may not use this dropbox: why */
    CRM_DELIVERY_THROTTLED	/* the loop breaker: accepted, not logged */
} crm_delivery_status;

#define CRM_DELIVERY_REASON	256

typedef struct crm_delivery {
    const crm_message *msg;
    const char *ref;			/* queue id, for logs and metadata */
    const char *source;			/* "smtp", "lmtp" */
    int64_t receive_time;
    const char *const *workspaces;	/* workspace names, no repeats */
    size_t n_workspaces;
    crm_delivery_status *status;	/* out: one per workspace */
    char reason[CRM_DELIVERY_REASON];	/* out: why, for a refusal */
    /* the dropbox's rules */
    const char *envelope_from;		/* MAIL FROM; "" or NULL for <> */
    crm_auth_results *const *auth;	/* its Authentication-Results fields */
    size_t n_auth;
    bool all_or_nothing;		/* one workspace refusing the sender refuses all */
    char (*reasons)[CRM_DELIVERY_REASON];	/* out, optional: why, per workspace */
} crm_delivery;

typedef struct crm_committer crm_committer;

crm_committer *crm_committer_new(const crm_config *cfg);
void crm_committer_free(crm_committer *c);

/* SIGHUP: take create_accounts, trusted_authserv_ids and the loop
 * breaker's limits from cfg, and reload the dropbox routes
 * and workspace snapshots at once rather than when they expire. */
void crm_committer_reconfigure(crm_committer *c, const crm_config *cfg);

/* Blocks until every workspace of the delivery has its status. */
void crm_committer_deliver(crm_committer *c, crm_delivery *d);

/* The workspace a dropbox address (lower case) routes to:
 * 1 and *workspace (g_malloc()ed), 0 unknown, -1 routes not loadable.
 * An unknown address reloads the routes first (about once a second at
 * most), so an address added a moment ago is found; this may wait up
 * to 3 s. */
int crm_committer_route(crm_committer *c, const char *address, char **workspace);

#endif
