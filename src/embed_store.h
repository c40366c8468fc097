/*
 * NAME
 *	embed_store 3h - the embedding queue and semantic search in PostgreSQL
 * DESCRIPTION
 *	Every statement of the embedding worker and of "crmgate search", in
 *	one place (embed_store.c), prepared once per connection; the
 *	queue's logic is in SQL functions of sql/005_embedding_worker.sql.
 *	It knows rows, leases and vectors as pgvector text ("[x,y,...]"); it
 *	knows nothing of HTTP or Voyage.
 *
 *	Claims are FOR UPDATE SKIP LOCKED under a lease: any number of
 *	workers, in any number of processes, never take the same job; a job
 *	whose lease ran out (its worker died) is claimed again. A worker
 *	writes a vector only for a job it still holds.
 * DIAGNOSTICS
 *	Functions return 0 (or a documented positive value) or -1 with the
 *	reason in err.
 * OWNERSHIP
 *	crm_embed_store_open() takes the connection; _close() closes it.
 *	Arrays returned are the caller's (g_ptr_array_unref frees all).
 */
#ifndef CRM_EMBED_STORE_H
#define CRM_EMBED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <libpq-fe.h>

typedef struct crm_embed_store crm_embed_store;

/* Connect to conninfo (UTC session) and prepare the statements. */
crm_embed_store *crm_embed_store_connect(const char *conninfo, char *err, size_t errlen);
crm_embed_store *crm_embed_store_open(PGconn *conn, char *err, size_t errlen);
void crm_embed_store_close(crm_embed_store *es);
/* True when the last failure was the connection, not the statement. */
bool crm_embed_store_broken(crm_embed_store *es);

/* "[x,y,...]": a vector as pgvector reads it; g_free() it. */
char *crm_embed_vector_text(const float *v, unsigned dim);

/* 0 when table.column is vector(dimension); 1 when it is not, with
 * what it is in err; -1 on a database error. */
int crm_embed_store_check_dimension(crm_embed_store *es, const char *table, const char *column,
                                    unsigned dimension, char *err, size_t errlen);

typedef struct crm_embed_job {
    long long id;
    char *target_table, *target_id, *target_at, *target_column;
    int attempts;		/* this claim included */
    char *text;			/* NULL: the target row is gone */
} crm_embed_job;

/* Claim up to limit jobs for lease_s seconds: *jobs, GPtrArray of
 * crm_embed_job* (possibly empty). */
int crm_embed_store_claim(crm_embed_store *es, const char *worker, unsigned limit,
                          unsigned lease_s, GPtrArray **jobs, char *err, size_t errlen);

/* Write vectors[i] (pgvector text; NULL: none, just mark done) of jobs
 * ids[i] and mark them done with notes[i] (may be NULL) kept in
 * last_error, in one transaction. *done: how many were still ours. */
int crm_embed_store_finish(crm_embed_store *es, const char *worker, const long long *ids,
                           char *const *vectors, char *const *notes, size_t n, int *done,
                           char *err, size_t errlen);

/* Hold claimed jobs lease_s seconds more (a slow request, retries). */
int crm_embed_store_extend(crm_embed_store *es, const char *worker, const long long *ids,
                           size_t n, unsigned lease_s, char *err, size_t errlen);

/* Give jobs back: failed for good when final, else pending again; refund:
 * this claim does not count as an attempt. */
int crm_embed_store_release(crm_embed_store *es, const char *worker, const long long *ids,
                            size_t n, const char *reason, bool final, bool refund,
                            char *err, size_t errlen);

/* Queue the embedding of a row again (its text changed): see
 * crmgate_requeue_embedding in sql/005_embedding_worker.sql. at: the
 * interaction's interacted_at (NULL for other tables); column NULL:
 * "embedding"; input NULL: the row's own text. *job_id may be NULL. */
int crm_embed_store_requeue(crm_embed_store *es, const char *workspace_id, const char *table,
                            const char *id, const char *at, const char *column,
                            const char *input, long long *job_id, char *err, size_t errlen);

/* Failed jobs grouped by reason: GPtrArray of crm_embed_failure*,
 * most frequent first, at most per_workspace reasons per workspace. */
typedef struct crm_embed_failure {
    char *workspace, *reason, *last_at;
    long count;
} crm_embed_failure;
int crm_embed_store_failures(crm_embed_store *es, unsigned per_workspace, GPtrArray **out,
                             char *err, size_t errlen);

/* ---- semantic search ---- */
typedef struct crm_search_query {
    const char *workspace_id;
    const char *since, *until;	/* timestamptz text, [since, until); NULL: open */
    const char *type;		/* interaction_type or NULL */
    unsigned limit;
    unsigned ef_search;		/* hnsw.ef_search for this query */
    const char *vector;		/* the query's embedding, pgvector text */
} crm_search_query;

typedef struct crm_search_hit {
    char *id, *at, *type, *contact, *account, *text;
    double score;		/* inner product: 1 same direction */
} crm_search_hit;

/* Nearest interactions of the workspace in the window (HNSW, inner
 * product on unit vectors), best first: GPtrArray of crm_search_hit*.
 * The bounds are sent as parameters of an unnamed statement, planned
 * with their values, so partitions outside the window are pruned. */
int crm_embed_store_search(crm_embed_store *es, const crm_search_query *q, GPtrArray **hits,
                           char *err, size_t errlen);
/* The plan of that query (EXPLAIN, costs off): *plan g_free()d. */
int crm_embed_store_search_plan(crm_embed_store *es, const crm_search_query *q, char **plan,
                                char *err, size_t errlen);

#endif
