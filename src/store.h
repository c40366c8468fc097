/*
 * NAME
 *	store 3h - the only writer to PostgreSQL
 * DESCRIPTION
 *	Every statement crmgate runs against the CRM schema is declared in
 *	store.c, prepared once per connection, named for what it does. The
 *	store knows rows and transactions; it knows nothing of SMTP, files
 *	or MIME: callers hand it finished rows (text and JSON).
 *
 *	crm_store_interactions() stores a batch of interactions in ONE
 *	transaction: mail as one set-based call (sql/012_batch_store.sql,
 *	its arrays sent in binary), a batch holding a replacing item
 *	(meetings) as one call per item in libpq pipeline mode; either way
 *	one round trip for the batch. Before it, the month partitions the batch needs are created
 *	(each in its own short transaction, under an advisory lock, see
 *	sql/002_gateway.sql). Each item is deduplicated by its key in the
 *	non-partitioned ingest_keys table: a key already present stores
 *	nothing and is reported as a duplicate, unless the item is a newer
 *	version that replaces the stored one (item->replace; the outcome is
 *	then CRM_STORE_STORED with the old id). When one item makes the
 *	batch fail, the batch is rolled back and replayed item by item, so
 *	only that item is rejected and its neighbours are stored.
 * DIAGNOSTICS
 *	Functions return 0 (or a documented positive status) or -1 with the
 *	reason in err. crm_store_interactions() returns -1 only when the
 *	database is unreachable; items then keep CRM_STORE_PENDING unless
 *	they were already committed, and the caller must not report them
 *	stored (SMTP answers 4xx).
 * OWNERSHIP
 *	crm_store_open() takes the connection; crm_store_close() closes it.
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <libpq-fe.h>

#include "workspace.h"

typedef struct crm_store crm_store;

#define CRM_STORE_EXISTS	1	/* add: the name/address is taken */
#define CRM_STORE_NOT_FOUND	2	/* no such workspace */

crm_store *crm_store_open(PGconn *conn, char *err, size_t errlen);
void crm_store_close(crm_store *st);

/* ---- workspaces and users ---- */
int crm_store_workspace_add(crm_store *st, const char *name, char *const *domains,
                            size_t n_domains, char **id, char *err, size_t errlen);
int crm_store_workspace_add_domain(crm_store *st, const char *name, const char *domain,
                                   char *err, size_t errlen);
/* A dropbox address: mail to it is logged into the workspace. An address
 * belongs to one workspace; CRM_STORE_EXISTS when it is taken. */
int crm_store_workspace_add_address(crm_store *st, const char *name, const char *address,
                                    char *err, size_t errlen);
/* *routes: lower-case dropbox address -> workspace name, for the SMTP
 * listener's RCPT decisions; the caller g_hash_table_unref()s it. */
int crm_store_routes(crm_store *st, GHashTable **routes, char *err, size_t errlen);
int crm_store_workspace_load(crm_store *st, const char *name, crm_workspace **ws,
                             char *err, size_t errlen);
int crm_store_user_add(crm_store *st, const crm_workspace *ws, const char *email,
                       const char *full_name, const char *role, char **id,
                       char *err, size_t errlen);

typedef struct crm_workspace_summary {
    char *name, *id, *domains;	/* domains: comma-separated */
    long users, contacts, accounts, interactions, jobs_pending, jobs_failed;
} crm_workspace_summary;

/* *out: GPtrArray of crm_workspace_summary*, freed with g_ptr_array_unref. */
int crm_store_workspace_list(crm_store *st, GPtrArray **out, char *err, size_t errlen);

/* ---- interactions ---- */
typedef enum crm_store_outcome {
    CRM_STORE_PENDING = 0,	/* not (yet) committed */
    CRM_STORE_STORED,
    CRM_STORE_DUPLICATE,
    CRM_STORE_REJECTED		/* the database refused this item: error */
} crm_store_outcome;

typedef struct crm_store_item {
    /* in: all text is valid UTF-8; JSON strings are arrays/objects */
    const char *dedup_key;
    const char *source;		/* "file", "smtp", "imap", "caldav" */
    const char *type;		/* interaction_type: "email", "meeting" */
    int64_t interacted_at;	/* unix seconds; picks the partition */
    const char *content;
    const char *metadata_json;
    const char *parties_json;	/* see crmgate_store_interaction() */
    const char *documents_json;
    const char *embed_text;	/* NULL or "": no embedding job; the content
				 * pointer itself: embed the content, stored
				 * once (crm_prepared_item() gives that) */
    /* replace: a newer version of what is stored under dedup_key replaces
     * it, keeping its id (sql/006_meetings.sql): a higher or equal
     * revision with another fingerprint. Otherwise a known key is a
     * duplicate. */
    bool replace;
    int64_t revision;
    const char *fingerprint;
    /* out */
    crm_store_outcome outcome;
    char interaction_id[40];
    char error[256];
} crm_store_item;

int crm_store_interactions(crm_store *st, const char *workspace_id, bool create_accounts,
                           crm_store_item *items, size_t n, char *err, size_t errlen);

/* While the tables are small, a store refreshes their statistics after
 * its first commits (store.c says why). Of two connections writing the
 * same import one is enough: an ANALYZE from either re-plans both, and
 * two at once only wait for each other. */
void crm_store_leave_statistics(crm_store *st);

/* With on, each batch stored as a set commits its new contacts and
 * accounts in a transaction of its own, then the rest of it
 * (sql/017_people_first.sql). For two connections storing neighbouring
 * batches at once: otherwise a batch creating a contact that the other
 * has just created waits for that whole batch to commit. If the rest
 * then fails, the contacts and accounts stay. Only where the store runs
 * its batches as the tenant (sql/007), which the procedure does itself. */
void crm_store_commit_people_first(crm_store *st, bool on);

/* How many batches crmgate_store_batch() refused as a whole since the
 * store was opened (their items were then stored one by one, so only a
 * bad one is lost), and the last reason. A refusal the items alone do
 * not repeat points at the set-based function. */
unsigned crm_store_set_refusals(const crm_store *st, const char **last_reason);

/* Where a source has got to in one folder, stored in the transaction of
 * the items it covers (nothing lost, nothing doubled: a crash before the
 * commit re-fetches them, and their dedup keys make that harmless).
 * failures_json: [{"ref":...,"reason":...}] refused before storing. */
typedef struct crm_source_cursor {
    int64_t source_id;
    const char *folder;
    const char *state_json;
    const char *failures_json;	/* NULL: none */
} crm_source_cursor;

/* The month a time (unix seconds) falls in, as a number: its partition. */
int crm_store_month(int64_t t);

/* The monthly partitions of interactions for the times at[0..n) (unix
 * seconds), those not yet known to exist made in one transaction. The
 * store calls it before every batch; a caller that knows the months
 * early may call it ahead, on a connection that is idle. */
int crm_store_ensure_months(crm_store *st, const int64_t *at, size_t n, char *err, size_t errlen);

/* What must hold before a batch's rows commit, waited for while the
 * server already works on them: called once per call, after the batch
 * is sent and before anything of it commits. Returns 0, or -1 with err
 * set: then the open transaction is rolled back and every item is
 * refused with err (crmgate: the attachment files the rows point at
 * could not be made durable). */
typedef int (*crm_store_barrier)(void *ctx, char *err, size_t errlen);

/* As crm_store_interactions(), and the cursor advances in the same
 * transaction. n may be 0. When an item makes the batch fail and the
 * items are replayed one by one, the cursor follows them in a last
 * transaction of its own. barrier may be NULL. */
int crm_store_interactions_at(crm_store *st, const char *workspace_id, bool create_accounts,
                              crm_store_item *items, size_t n, const crm_source_cursor *cursor,
                              crm_store_barrier barrier, void *barrier_ctx,
                              char *err, size_t errlen);

/* Mark the workspace's contact with this address as bouncing; *marked
 * tells whether such a contact existed. */
int crm_store_mark_bounce(crm_store *st, const char *workspace_id, const char *email,
                          const char *status, const char *diagnostic, int64_t at,
                          bool *marked, char *err, size_t errlen);

/* ---- attribution rules of a workspace (sql/009_attribution.sql) ----
 * The blocklist holds "bob@x.example" and "@x.example" entries. add:
 * CRM_STORE_EXISTS when listed already; remove: CRM_STORE_NOT_FOUND when
 * not listed. Listings are GPtrArrays of g_malloc()ed lines, columns
 * separated by tabs. */
int crm_store_blocklist_add(crm_store *st, const char *workspace, const char *entry,
                            char *err, size_t errlen);
int crm_store_blocklist_remove(crm_store *st, const char *workspace, const char *entry,
                               char *err, size_t errlen);
int crm_store_blocklist_list(crm_store *st, const char *workspace, GPtrArray **out,
                             char *err, size_t errlen);
/* A correction to the built-in free-mail list for a registrable domain:
 * set (free-mail or corporate), reset (CRM_STORE_NOT_FOUND: none), list
 * ("domain\tfree-mail|corporate"). */
int crm_store_freemail_set(crm_store *st, const char *workspace, const char *domain,
                           bool freemail, char *err, size_t errlen);
int crm_store_freemail_reset(crm_store *st, const char *workspace, const char *domain,
                             char *err, size_t errlen);
int crm_store_freemail_list(crm_store *st, const char *workspace, GPtrArray **out,
                            char *err, size_t errlen);
/* The account named (created if the workspace has none of that name)
 * owns the registrable domains given; CRM_STORE_EXISTS (err names the
 * owner) when another account owns one, and nothing is changed. */
int crm_store_account_add(crm_store *st, const char *workspace, const char *name,
                          char *const *domains, size_t n_domains, char **id,
                          char *err, size_t errlen);
/* "name\tid\tdomain,domain\tcontacts" per account. */
int crm_store_account_list(crm_store *st, const char *workspace, GPtrArray **out,
                           char *err, size_t errlen);

/* ---- sources: connected mailboxes and calendars ---- */
typedef struct crm_source {
    int64_t id;
    char *workspace, *workspace_id, *kind;
    char *settings;		/* JSON object; secrets are file paths, never values */
    char *state;		/* new, syncing, idle, error */
    char *last_sync_at, *last_error, *last_error_at;	/* "" when never */
    char *lease_holder, *lease_until;			/* "" when free */
    long stored, duplicates, skipped, failed;
} crm_source;

void crm_source_free(crm_source *s);

int crm_store_source_add(crm_store *st, const char *workspace, const char *kind,
                         const char *settings_json, int64_t *id, char *err, size_t errlen);
/* CRM_STORE_NOT_FOUND when there is no such source. */
int crm_store_source_remove(crm_store *st, int64_t id, char *err, size_t errlen);
/* *out: GPtrArray of crm_source*, by id; kind NULL for all kinds. */
int crm_store_source_list(crm_store *st, const char *kind, GPtrArray **out,
                          char *err, size_t errlen);
/* Take or renew the lease for seconds: *held tells whether we hold it.
 * A source that no longer exists is not held. */
int crm_store_source_lease(crm_store *st, int64_t id, const char *holder, int seconds,
                           bool *held, char *err, size_t errlen);
int crm_store_source_release(crm_store *st, int64_t id, const char *holder,
                             char *err, size_t errlen);
/* state "syncing", "idle" (a sync completed: last_sync_at is now) or
 * "error" (error is kept in last_error with its time). */
int crm_store_source_state(crm_store *st, int64_t id, const char *state, const char *error,
                           char *err, size_t errlen);
int crm_store_source_count(crm_store *st, int64_t id, long stored, long duplicates,
                           long skipped, long failed, char *err, size_t errlen);
/* A message refused after its batch was sent (the store rejected it). */
int crm_store_source_failure(crm_store *st, int64_t id, const char *folder, const char *ref,
                             const char *reason, char *err, size_t errlen);
/* *state_json: the folder's cursor, or NULL when it has none yet. */
int crm_store_source_cursor(crm_store *st, int64_t id, const char *folder, char **state_json,
                            char *err, size_t errlen);

/* CalDAV (sql/008_caldav.sql): mark cancelled the workspace's meetings
 * from the resource href (metadata.caldav_href) whose dedup key is not
 * in keep_json (a JSON array of keys; "[]" for a deleted resource). With
 * from/to (both 0: no bound), only occurrences originally starting in
 * [from, to). Kept, marked, never deleted; *marked: how many. Runs in a
 * transaction of its own, scoped to the workspace as batches are. */
int crm_store_caldav_forget(crm_store *st, const char *workspace_id, const char *href,
                            const char *keep_json, int64_t from, int64_t to, long *marked,
                            char *err, size_t errlen);

/* ---- the dropbox (sql/010_dropbox.sql) ---- */

/* Who may send to the workspace's dropbox: "users" or "anyone" (loaded
 * into crm_workspace.dropbox_anyone). CRM_STORE_NOT_FOUND: no such
 * workspace. */
int crm_store_workspace_set_dropbox_senders(crm_store *st, const char *name, const char *senders,
                                            char *err, size_t errlen);

/* Arrivals counted per key in a sliding window (the dropbox loop
 * breaker's memory). For each keys[i] in order: the arrivals recorded
 * under (workspace, key) in the last window_s seconds are counted;
 * under limit one more is recorded and ids[i] is its id, at the limit
 * ids[i] is 0 and nothing is recorded. counts[i]: the arrivals in the
 * window including this one. A key repeated in keys sees the ones
 * before it; a NULL key is not counted (0, 0). One transaction of its
 * own, each key serialised across connections, so that concurrent
 * gateways count every arrival once; older rows are pruned. */
int crm_store_arrivals_take(crm_store *st, const char *workspace_id, const char *const *keys,
                            size_t n, unsigned window_s, unsigned limit, int64_t *ids,
                            unsigned *counts, char *err, size_t errlen);
/* Forget arrivals taken for what then was not stored (a duplicate, a
 * refusal, a failure); ids of 0 are skipped. */
int crm_store_arrivals_give_back(crm_store *st, const char *workspace_id, const int64_t *ids,
                                 size_t n, char *err, size_t errlen);

/* UTC "YYYY-MM-DD HH:MM:SS+00" for a unix time, as PostgreSQL reads it. */
void crm_store_format_time(int64_t t, char out[32]);

#endif
