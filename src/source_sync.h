/*
 * NAME
 *	source_sync 3h - what every connected source's sync thread shares
 * DESCRIPTION
 *	A source (an IMAP mailbox, a CalDAV account) is synced by one
 *	thread of one gateway at a time. crm_source_run() is that thread's
 *	life, the same for every kind: open two database connections (one
 *	for the pipeline's batches, one for the lease, state and counters,
 *	so they never interleave), hold the source's lease in PostgreSQL,
 *	load its settings and its workspace, connect, then sync and wait in
 *	turn until told to stop, the source is removed or another gateway
 *	holds the lease. Every failure is shown on the source (state error,
 *	last_error) and retried after an exponential backoff with jitter, up
 *	to source_backoff_max seconds; the lease is renewed meanwhile.
 *
 *	The kind's driver does the talking: configure (parse settings),
 *	connect, sync (one pass over everything), wait (until the next
 *	pass), disconnect. Each returns 0, or -1 with the reason in the
 *	session's err.
 */
#ifndef CRM_SOURCE_SYNC_H
#define CRM_SOURCE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "config.h"
#include "pipeline.h"
#include "matcher.h"
#include "store.h"
#include "workspace.h"

typedef struct crm_source_session {
    const crm_config *cfg;
    int64_t id;
    const char *holder;		/* this gateway, in the lease */
    volatile gint *stop;	/* non-zero: stop */
    crm_store *store;		/* the pipeline's: rows and cursors */
    crm_store *ctl;		/* lease, state, counts, while a batch commits */
    crm_workspace *ws;		/* the source's workspace, loaded at connect */
    crm_contact_policy contacts;	/* settings "contacts": who becomes a contact */
    bool db_failed;		/* reconnect the database before going on */
    bool lease_lost;
    gint64 lease_renewed;	/* monotonic µs */
    char err[1024];		/* why the last attempt failed */
    /* outcomes since the last cursor (crm_source_outcome) */
    const char *folder;		/* the folder or calendar being synced */
    GPtrArray *failures;	/* "ref\treason" */
    long stored, duplicates, skipped, failed;
} crm_source_session;

typedef struct crm_source_driver {
    const char *kind;		/* sources.kind */
    int (*configure)(void *ctx, const char *settings_json);
    int (*connect)(void *ctx);
    int (*sync)(void *ctx);
    int (*wait)(void *ctx);
    void (*disconnect)(void *ctx);	/* also when never connected */
} crm_source_driver;

/* The sync thread's life; returns when it should end. ctx is handed to
 * the driver; s is its session (cfg, id, holder, stop set). */
/* The contact policy a source's settings JSON names ("contacts"), by
 * default sent_and_received. */
crm_contact_policy crm_source_contact_policy(const char *settings_json);

void crm_source_run(crm_source_session *s, const crm_source_driver *d, void *ctx);

/* The pipeline's outcome callback (crm_outcome_fn), ctx the session:
 * counts, and keeps each failure with its reason for the cursor. */
void crm_source_outcome(void *session, const char *ref, crm_outcome outcome, const char *reason);

/* Hand what the pipeline holds to the store with the folder's new
 * cursor (state_json) and the failures gathered so far, in one
 * transaction; wait: for its commit (else it commits while the caller
 * fetches more). Counts and the failures the store reported late go
 * through the control connection. 0, or -1 (s->db_failed, err). */
int crm_source_advance(crm_source_session *s, crm_pipeline *p, const char *state_json, bool wait,
                       char *err, size_t errlen);

bool crm_source_stopping(const crm_source_session *s);
/* Renew the lease once a third of it has passed (now: at once). false
 * when it is lost (another gateway, the source removed) or the
 * database failed. */
bool crm_source_keep_lease(crm_source_session *s, bool now);
/* Sleep up to secs, waking for stop, renewing the lease. */
void crm_source_pause(crm_source_session *s, double secs);
void crm_source_state(crm_source_session *s, const char *state, const char *error);

/* The password or token in path, trailing newline removed; g_free()
 * it after wiping. NULL with err set when unreadable or not a secret. */
char *crm_source_read_secret(const char *path, char *err, size_t errlen);

#endif
