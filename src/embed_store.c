/*
 * NAME
 *	embed_store 3 - the embedding queue and semantic search in PostgreSQL
 * DESCRIPTION
 *	See embed_store.h.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "db.h"
#include "embed_store.h"
#include "log.h"
#include "pg_array.h"

struct crm_embed_store {
    PGconn *conn;
};

static const crm_db_statement statements[] = {
    { "embed_column_type",
      "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
      " WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped" },
    { "embed_claim",
      "SELECT job_id, target_table, target_id, target_at, target_column, attempts, input"
      " FROM crmgate_claim_embedding_jobs($1, $2::int, $3::int)" },
    { "embed_finish",
      "SELECT crmgate_finish_embedding_jobs($1, $2::bigint[], $3::text[], $4::text[])" },
    { "embed_release",
      "SELECT crmgate_release_embedding_jobs($1, $2::bigint[], $3, $4::boolean, $5::boolean)" },
    { "embed_extend",
      "UPDATE embedding_jobs SET lease_until = now() + make_interval(secs => $3::int)"
      " WHERE id = ANY ($2::bigint[]) AND status = 'running' AND claimed_by = $1" },
    { "embed_requeue",
      "SELECT crmgate_requeue_embedding($1::uuid, $2, $3::uuid, $4::timestamptz,"
      " coalesce($5, 'embedding'), $6)" },
    { "embed_failures",
      "SELECT w.name, f.reason, f.n, to_char(f.last_at, 'YYYY-MM-DD HH24:MI:SS') FROM ("
      "  SELECT workspace_id, coalesce(last_error, '(no reason)') AS reason, count(*) AS n,"
      "         max(updated_at) AS last_at,"
      "         row_number() OVER (PARTITION BY workspace_id ORDER BY count(*) DESC,"
      "                            max(updated_at) DESC) AS rank"
      "    FROM embedding_jobs WHERE status = 'failed'"
      "   GROUP BY workspace_id, coalesce(last_error, '(no reason)')) f"
      " JOIN workspaces w ON w.id = f.workspace_id"
      " WHERE f.rank <= $1::int ORDER BY w.name, f.rank" },
};

/* The search, sent unnamed so that it is planned with the bounds' values
 * (plan-time partition pruning). The LIMIT is inside, on interactions
 * alone, so that the HNSW scans of the partitions can serve the ORDER BY;
 * names are joined to the few rows found. */
static const char search_sql[] =
    "SELECT m.id, to_char(m.interacted_at, 'YYYY-MM-DD HH24:MI'), m.type,"
    " coalesce(nullif(trim(concat_ws(' ', c.first_name, c.last_name)), '') || ' <' || c.email || '>',"
    "          c.email, ''),"
    " coalesce(a.name, ''), -m.dist, left(m.content, 600)"
    " FROM (SELECT i.id, i.interacted_at, i.type, i.contact_id, i.account_id, i.content,"
    "              i.embedding <#> $5::vector AS dist"
    "         FROM interactions i"
    "        WHERE i.workspace_id = $1::uuid"
    "          AND i.interacted_at >= $2::timestamptz AND i.interacted_at < $3::timestamptz"
    "          AND ($4::interaction_type IS NULL OR i.type = $4::interaction_type)"
    "          AND i.embedding IS NOT NULL"
    "        ORDER BY i.embedding <#> $5::vector LIMIT $6::int) m"
    " LEFT JOIN contacts c ON c.id = m.contact_id"
    " LEFT JOIN accounts a ON a.id = m.account_id"
    " ORDER BY m.dist";

crm_embed_store *crm_embed_store_open(PGconn *conn, char *err, size_t errlen)
{
    crm_embed_store *es;

    if (crm_db_prepare(conn, statements, G_N_ELEMENTS(statements), err, errlen) < 0) {
        PQfinish(conn);
        return NULL;
    }
    es = g_new0(crm_embed_store, 1);
    es->conn = conn;
    return es;
}

crm_embed_store *crm_embed_store_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);

    if (PQstatus(conn) != CONNECTION_OK) {
        crm_err_set(err, errlen, "cannot connect to the database: %s",
                    g_strstrip(PQerrorMessage(conn)));
        PQfinish(conn);
        return NULL;
    }
    crm_db_set_session(conn);
    return crm_embed_store_open(conn, err, errlen);
}

void crm_embed_store_close(crm_embed_store *es)
{
    if (es == NULL)
        return;
    PQfinish(es->conn);
    g_free(es);
}

bool crm_embed_store_broken(crm_embed_store *es)
{
    return PQstatus(es->conn) != CONNECTION_OK;
}

char *crm_embed_vector_text(const float *v, unsigned dim)
{
    GString *s = g_string_sized_new((gsize)dim * 12 + 2);
    char num[G_ASCII_DTOSTR_BUF_SIZE];

    g_string_append_c(s, '[');
    for (unsigned d = 0; d < dim; d++) {
        if (d)
            g_string_append_c(s, ',');
        g_string_append(s, g_ascii_formatd(num, sizeof num, "%.8g", v[d]));
    }
    g_string_append_c(s, ']');
    return g_string_free(s, FALSE);
}

static PGresult *run(crm_embed_store *es, const char *name, int n, const char *const *params)
{
    return PQexecPrepared(es->conn, name, n, params, NULL, NULL, 0);
}

static int result_error(crm_embed_store *es, PGresult *r, const char *what, char *err,
                        size_t errlen)
{
    return crm_db_fail(es->conn, r, what, err, errlen);
}

int crm_embed_store_check_dimension(crm_embed_store *es, const char *table, const char *column,
                                    unsigned dimension, char *err, size_t errlen)
{
    const char *p[2] = { table, column };
    PGresult *r = run(es, "embed_column_type", 2, p);
    char want[32];
    int rc;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "reading the schema", err, errlen);
    snprintf(want, sizeof want, "vector(%u)", dimension);
    if (PQntuples(r) == 0) {
        crm_err_set(err, errlen, "%s.%s does not exist", table, column);
        rc = 1;
    } else if (strcmp(PQgetvalue(r, 0, 0), want) != 0) {
        crm_err_set(err, errlen, "%s.%s is %s, but embedding_dimension is %u", table, column,
                    PQgetvalue(r, 0, 0), dimension);
        rc = 1;
    } else {
        rc = 0;
    }
    PQclear(r);
    return rc;
}

static void job_free(gpointer p)
{
    crm_embed_job *j = p;

    g_free(j->target_table);
    g_free(j->target_id);
    g_free(j->target_at);
    g_free(j->target_column);
    g_free(j->text);
    g_free(j);
}

int crm_embed_store_claim(crm_embed_store *es, const char *worker, unsigned limit,
                          unsigned lease_s, GPtrArray **jobs, char *err, size_t errlen)
{
    char lim[16], lease[16];
    const char *p[3] = { worker, lim, lease };
    PGresult *r;

    *jobs = NULL;
    snprintf(lim, sizeof lim, "%u", limit);
    snprintf(lease, sizeof lease, "%u", lease_s);
    r = run(es, "embed_claim", 3, p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "claiming embedding jobs", err, errlen);
    *jobs = g_ptr_array_new_with_free_func(job_free);
    for (int i = 0; i < PQntuples(r); i++) {
        crm_embed_job *j = g_new0(crm_embed_job, 1);
        j->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        j->target_table = g_strdup(PQgetvalue(r, i, 1));
        j->target_id = g_strdup(PQgetvalue(r, i, 2));
        j->target_at = PQgetisnull(r, i, 3) ? NULL : g_strdup(PQgetvalue(r, i, 3));
        j->target_column = g_strdup(PQgetvalue(r, i, 4));
        j->attempts = atoi(PQgetvalue(r, i, 5));
        j->text = PQgetisnull(r, i, 6) ? NULL : g_strdup(PQgetvalue(r, i, 6));
        g_ptr_array_add(*jobs, j);
    }
    PQclear(r);
    return 0;
}

/* A PostgreSQL array literal of ids. */
static char *id_array(const long long *ids, size_t n)
{
    GString *s = g_string_new("{");

    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s%lld", i ? "," : "", ids[i]);
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

int crm_embed_store_finish(crm_embed_store *es, const char *worker, const long long *ids,
                           char *const *vectors, char *const *notes, size_t n, int *done,
                           char *err, size_t errlen)
{
    char *a_ids = id_array(ids, n);
    char *a_vec = crm_pg_text_array_literal((const char *const *)vectors, n);
    char *a_notes = crm_pg_text_array_literal((const char *const *)notes, n);
    const char *p[4] = { worker, a_ids, a_vec, a_notes };
    PGresult *r = run(es, "embed_finish", 4, p);

    g_free(a_ids);
    g_free(a_vec);
    g_free(a_notes);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "writing embeddings", err, errlen);
    *done = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int crm_embed_store_release(crm_embed_store *es, const char *worker, const long long *ids,
                            size_t n, const char *reason, bool final, bool refund,
                            char *err, size_t errlen)
{
    char *a_ids = id_array(ids, n);
    const char *p[5] = { worker, a_ids, reason, final ? "t" : "f", refund ? "t" : "f" };
    PGresult *r = run(es, "embed_release", 5, p);

    g_free(a_ids);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "releasing embedding jobs", err, errlen);
    PQclear(r);
    return 0;
}

int crm_embed_store_extend(crm_embed_store *es, const char *worker, const long long *ids,
                           size_t n, unsigned lease_s, char *err, size_t errlen)
{
    char *a_ids = id_array(ids, n), lease[16];
    const char *p[3] = { worker, a_ids, lease };
    PGresult *r;

    snprintf(lease, sizeof lease, "%u", lease_s);
    r = run(es, "embed_extend", 3, p);
    g_free(a_ids);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return result_error(es, r, "extending the lease of embedding jobs", err, errlen);
    PQclear(r);
    return 0;
}

int crm_embed_store_requeue(crm_embed_store *es, const char *workspace_id, const char *table,
                            const char *id, const char *at, const char *column,
                            const char *input, long long *job_id, char *err, size_t errlen)
{
    const char *p[6] = { workspace_id, table, id, at, column, input };
    PGresult *r = run(es, "embed_requeue", 6, p);

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "queueing an embedding", err, errlen);
    if (job_id != NULL)
        *job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

static void failure_free(gpointer p)
{
    crm_embed_failure *f = p;

    g_free(f->workspace);
    g_free(f->reason);
    g_free(f->last_at);
    g_free(f);
}

int crm_embed_store_failures(crm_embed_store *es, unsigned per_workspace, GPtrArray **out,
                             char *err, size_t errlen)
{
    char lim[16];
    const char *p[1] = { lim };
    PGresult *r;

    *out = NULL;
    snprintf(lim, sizeof lim, "%u", per_workspace);
    r = run(es, "embed_failures", 1, p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return result_error(es, r, "listing failed embedding jobs", err, errlen);
    *out = g_ptr_array_new_with_free_func(failure_free);
    for (int i = 0; i < PQntuples(r); i++) {
        crm_embed_failure *f = g_new0(crm_embed_failure, 1);
        f->workspace = g_strdup(PQgetvalue(r, i, 0));
        f->reason = g_strdup(PQgetvalue(r, i, 1));
        f->count = atol(PQgetvalue(r, i, 2));
        f->last_at = g_strdup(PQgetvalue(r, i, 3));
        g_ptr_array_add(*out, f);
    }
    PQclear(r);
    return 0;
}

/* ---- semantic search ------------------------------------------------- */

static void hit_free(gpointer p)
{
    crm_search_hit *h = p;

    g_free(h->id);
    g_free(h->at);
    g_free(h->type);
    g_free(h->contact);
    g_free(h->account);
    g_free(h->text);
    g_free(h);
}

/* BEGIN; SET LOCAL the HNSW knobs; the caller runs its statement. */
static int search_begin(crm_embed_store *es, unsigned ef_search, char *err, size_t errlen)
{
    char sql[160];
    PGresult *r;

    /* strict_order: pgvector 0.8 scans the index further when filters
     * (workspace, window, type) leave fewer than LIMIT rows */
    snprintf(sql, sizeof sql, "BEGIN; SET LOCAL hnsw.ef_search = %u;"
             " SET LOCAL hnsw.iterative_scan = strict_order", ef_search);
    r = PQexec(es->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        result_error(es, r, "starting the search", err, errlen);
        PQclear(PQexec(es->conn, "ROLLBACK"));
        return -1;
    }
    PQclear(r);
    return 0;
}

static PGresult *search_exec(crm_embed_store *es, const crm_search_query *q, const char *sql)
{
    char lim[16];
    const char *p[6] = {
        q->workspace_id, q->since != NULL ? q->since : "-infinity",
        q->until != NULL ? q->until : "infinity", q->type, q->vector, lim
    };

    snprintf(lim, sizeof lim, "%u", q->limit);
    return PQexecParams(es->conn, sql, 6, NULL, p, NULL, NULL, 0);
}

int crm_embed_store_search(crm_embed_store *es, const crm_search_query *q, GPtrArray **hits,
                           char *err, size_t errlen)
{
    PGresult *r;

    *hits = NULL;
    if (search_begin(es, q->ef_search, err, errlen) < 0)
        return -1;
    r = search_exec(es, q, search_sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_error(es, r, "searching", err, errlen);
        PQclear(PQexec(es->conn, "ROLLBACK"));
        return -1;
    }
    *hits = g_ptr_array_new_with_free_func(hit_free);
    for (int i = 0; i < PQntuples(r); i++) {
        crm_search_hit *h = g_new0(crm_search_hit, 1);
        h->id = g_strdup(PQgetvalue(r, i, 0));
        h->at = g_strdup(PQgetvalue(r, i, 1));
        h->type = g_strdup(PQgetvalue(r, i, 2));
        h->contact = g_strdup(PQgetvalue(r, i, 3));
        h->account = g_strdup(PQgetvalue(r, i, 4));
        h->score = g_ascii_strtod(PQgetvalue(r, i, 5), NULL);
        h->text = g_strdup(PQgetvalue(r, i, 6));
        g_ptr_array_add(*hits, h);
    }
    PQclear(r);
    PQclear(PQexec(es->conn, "COMMIT"));
    return 0;
}

int crm_embed_store_search_plan(crm_embed_store *es, const crm_search_query *q, char **plan,
                                char *err, size_t errlen)
{
    char *sql = g_strconcat("EXPLAIN (COSTS OFF) ", search_sql, NULL);
    GString *out = g_string_new(NULL);
    PGresult *r;

    *plan = NULL;
    if (search_begin(es, q->ef_search, err, errlen) < 0) {
        g_free(sql);
        g_string_free(out, TRUE);
        return -1;
    }
    r = search_exec(es, q, sql);
    g_free(sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_error(es, r, "explaining the search", err, errlen);
        PQclear(PQexec(es->conn, "ROLLBACK"));
        g_string_free(out, TRUE);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++)
        g_string_append_printf(out, "%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
    PQclear(PQexec(es->conn, "ROLLBACK"));
    *plan = g_string_free(out, FALSE);
    return 0;
}
