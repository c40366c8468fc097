/*
 * NAME
 *	store 3 - the only writer to PostgreSQL
 * DESCRIPTION
 *	See store.h. The per-interaction logic (dedup key, contacts,
 *	accounts, participants, documents, embedding job) is one PL/pgSQL
 *	function in sql/002_gateway.sql, so that storing a mail costs one
 *	statement and a batch costs one round trip; this file decides
 *	batching, transactions and what a failure means.
 */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "db.h"
#include "log.h"
#include "store.h"

struct crm_store {
    PGconn *conn;
    GHashTable *months;		/* month numbers whose partition exists */
    int analyze_left;		/* ANALYZE runs still owed, see refresh_stats() */
};

/* The store's SQL functions cache their plans per session. Planned on
 * empty tables, the contact lookup picks the (workspace_id, owner_id)
 * index and filters on email: a scan of the whole workspace per lookup,
 * kept for the whole first import (measured 0.24 ms instead of 0.01 ms).
 * While the tables are small, statistics are refreshed after a commit;
 * ANALYZE invalidates the cached plans, so they are made anew on real
 * sizes. Small tables analyze in milliseconds. */
#define STATS_SMALL_TABLE	5000
#define STATS_REFRESHES		3
static const char analyze_sql[] =
    "ANALYZE contacts, accounts, account_domains, ingest_keys, users";
static const char small_tables_sql[] =
    "SELECT reltuples < " G_STRINGIFY(STATS_SMALL_TABLE)
    " FROM pg_class WHERE oid = 'contacts'::regclass";

/* Every statement of crmgate, in one place. */
typedef struct stmt_def {
    const char *name;
    const char *sql;
} stmt_def;

static const stmt_def statements[] = {
    { "ensure_partition",
      "SELECT crmgate_ensure_month_partition($1::timestamptz)" },
    { "store_interaction",
      "SELECT crmgate_store_interaction($1::uuid, $2, $3, $4::interaction_type,"
      " $5::timestamptz, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::boolean, $11)" },
    { "store_revision",
      "SELECT crmgate_store_revision($1::uuid, $2, $3, $4::interaction_type,"
      " $5::timestamptz, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::boolean, $11,"
      " $12::bigint, $13)" },
    { "mark_bounce",
      "SELECT crmgate_mark_bounce($1::uuid, $2, $3, $4, $5::timestamptz)" },
    { "workspace_insert",
      "INSERT INTO workspaces (name) VALUES ($1)"
      " ON CONFLICT (name) DO NOTHING RETURNING id" },
    { "workspace_by_name",
      "SELECT id FROM workspaces WHERE name = $1" },
    { "workspace_domain_insert",
      "INSERT INTO workspace_domains (workspace_id, domain) VALUES ($1::uuid, lower($2))"
      " ON CONFLICT DO NOTHING" },
    { "workspace_address_insert",
      "INSERT INTO workspace_addresses (address, workspace_id) VALUES (lower($2), $1::uuid)"
      " ON CONFLICT DO NOTHING" },
    { "route_addresses",
      "SELECT a.address, w.name FROM workspace_addresses a JOIN workspaces w ON w.id = a.workspace_id" },
    { "dropbox_addresses",
      "SELECT address FROM workspace_addresses" },
    { "workspace_domains",
      "SELECT domain FROM workspace_domains WHERE workspace_id = $1::uuid ORDER BY domain" },
    { "workspace_users",
      "SELECT email, id FROM users WHERE workspace_id = $1::uuid" },
    { "user_insert",
      "INSERT INTO users (workspace_id, email, full_name, role)"
      " VALUES ($1::uuid, lower($2), $3, $4)"
      " ON CONFLICT (workspace_id, email) DO NOTHING RETURNING id" },
    { "workspace_summaries",
      "SELECT w.name, w.id,"
      " coalesce((SELECT string_agg(domain, ',' ORDER BY domain) FROM workspace_domains d"
      "           WHERE d.workspace_id = w.id), ''),"
      " (SELECT count(*) FROM users u WHERE u.workspace_id = w.id),"
      " (SELECT count(*) FROM contacts c WHERE c.workspace_id = w.id),"
      " (SELECT count(*) FROM accounts a WHERE a.workspace_id = w.id),"
      " (SELECT count(*) FROM interactions i WHERE i.workspace_id = w.id),"
      " (SELECT count(*) FROM embedding_jobs j WHERE j.workspace_id = w.id"
      "   AND j.status IN ('pending', 'running')),"
      " (SELECT count(*) FROM embedding_jobs j WHERE j.workspace_id = w.id"
      "   AND j.status = 'failed')"
      " FROM workspaces w ORDER BY w.name" },
};

void crm_store_format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S+00", &tm);
}

static int month_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

crm_store *crm_store_open(PGconn *conn, char *err, size_t errlen)
{
    crm_store *st;

    for (size_t i = 0; i < G_N_ELEMENTS(statements); i++) {
        PGresult *r = PQprepare(conn, statements[i].name, statements[i].sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            crm_err_set(err, errlen, "preparing %s: %s", statements[i].name,
                        g_strstrip(PQresultErrorMessage(r)));
            PQclear(r);
            PQfinish(conn);
            return NULL;
        }
        PQclear(r);
    }
    st = g_new0(crm_store, 1);
    st->conn = conn;
    st->months = g_hash_table_new(g_direct_hash, g_direct_equal);
    {
        PGresult *r = PQexec(conn, small_tables_sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
            strcmp(PQgetvalue(r, 0, 0), "t") == 0)
            st->analyze_left = STATS_REFRESHES;
        PQclear(r);
    }
    return st;
}

void crm_store_close(crm_store *st)
{
    if (st == NULL)
        return;
    PQfinish(st->conn);
    g_hash_table_destroy(st->months);
    g_free(st);
}

/* Run a prepared statement outside any pipeline. Caller PQclear()s. */
static PGresult *run(crm_store *st, const char *name, int n, const char *const *params)
{
    return PQexecPrepared(st->conn, name, n, params, NULL, NULL, 0);
}

static int result_error(crm_store *st, PGresult *r, const char *what, char *err, size_t errlen)
{
    crm_err_set(err, errlen, "%s: %s", what,
                g_strstrip(r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(st->conn)));
    PQclear(r);
    return -1;
}

static bool tuples_ok(PGresult *r)
{
    return PQresultStatus(r) == PGRES_TUPLES_OK;
}

/* ---- workspaces and users ------------------------------------------- */

int crm_store_workspace_add(crm_store *st, const char *name, char *const *domains,
                            size_t n_domains, char **id, char *err, size_t errlen)
{
    const char *p[2] = { name, NULL };
    PGresult *r;

    *id = NULL;
    PQclear(PQexec(st->conn, "BEGIN"));
    r = run(st, "workspace_insert", 1, p);
    if (!tuples_ok(r)) {
        PQclear(PQexec(st->conn, "ROLLBACK"));
        return result_error(st, r, "adding workspace", err, errlen);
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        PQclear(PQexec(st->conn, "ROLLBACK"));
        return CRM_STORE_EXISTS;
    }
    *id = g_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    for (size_t i = 0; i < n_domains; i++) {
        const char *dp[2] = { *id, domains[i] };
        r = run(st, "workspace_domain_insert", 2, dp);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(PQexec(st->conn, "ROLLBACK"));
            g_clear_pointer(id, g_free);
            return result_error(st, r, "adding domain", err, errlen);
        }
        PQclear(r);
    }
    r = PQexec(st->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        g_clear_pointer(id, g_free);
        return result_error(st, r, "adding workspace", err, errlen);
    }
    PQclear(r);
    return 0;
}

static int workspace_id(crm_store *st, const char *name, char **id, char *err, size_t errlen)
{
    const char *p[1] = { name };
    PGresult *r = run(st, "workspace_by_name", 1, p);

    if (!tuples_ok(r))
        return result_error(st, r, "looking up workspace", err, errlen);
    if (PQntuples(r) == 0) {
        PQclear(r);
        crm_err_set(err, errlen, "no workspace named \"%s\"", name);
        return CRM_STORE_NOT_FOUND;
    }
    *id = g_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* Insert (workspace id, value) with a prepared statement, the workspace
 * named. 0 inserted, CRM_STORE_EXISTS when the row was there. */
static int insert_for_workspace(crm_store *st, const char *name, const char *stmt,
                                const char *value, const char *what, char *err, size_t errlen)
{
    char *id = NULL;
    int rc = workspace_id(st, name, &id, err, errlen);
    PGresult *r;

    if (rc != 0)
        return rc;
    const char *p[2] = { id, value };
    r = run(st, stmt, 2, p);
    g_free(id);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return result_error(st, r, what, err, errlen);
    rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : CRM_STORE_EXISTS;
    PQclear(r);
    return rc;
}

int crm_store_workspace_add_domain(crm_store *st, const char *name, const char *domain,
                                   char *err, size_t errlen)
{
    int rc = insert_for_workspace(st, name, "workspace_domain_insert", domain,
                                  "adding domain", err, errlen);

    return rc == CRM_STORE_EXISTS ? 0 : rc;	/* adding it again changes nothing */
}

int crm_store_workspace_add_address(crm_store *st, const char *name, const char *address,
                                    char *err, size_t errlen)
{
    return insert_for_workspace(st, name, "workspace_address_insert", address,
                                "adding address", err, errlen);
}

int crm_store_routes(crm_store *st, GHashTable **routes, char *err, size_t errlen)
{
    PGresult *r = run(st, "route_addresses", 0, NULL);

    *routes = NULL;
    if (!tuples_ok(r))
        return result_error(st, r, "loading dropbox addresses", err, errlen);
    *routes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < PQntuples(r); i++)
        g_hash_table_replace(*routes, g_strdup(PQgetvalue(r, i, 0)), g_strdup(PQgetvalue(r, i, 1)));
    PQclear(r);
    return 0;
}

int crm_store_workspace_load(crm_store *st, const char *name, crm_workspace **out,
                             char *err, size_t errlen)
{
    char *id = NULL;
    int rc = workspace_id(st, name, &id, err, errlen);
    crm_workspace *ws;
    PGresult *r;

    *out = NULL;
    if (rc != 0)
        return rc;
    ws = crm_workspace_new(id, name);
    g_free(id);
    const char *p[1] = { ws->id };
    r = run(st, "workspace_domains", 1, p);
    if (!tuples_ok(r)) {
        crm_workspace_free(ws);
        return result_error(st, r, "loading workspace domains", err, errlen);
    }
    for (int i = 0; i < PQntuples(r); i++)
        crm_workspace_add_domain(ws, PQgetvalue(r, i, 0));
    PQclear(r);
    p[0] = ws->id;
    r = run(st, "workspace_users", 1, p);
    if (!tuples_ok(r)) {
        crm_workspace_free(ws);
        return result_error(st, r, "loading workspace users", err, errlen);
    }
    for (int i = 0; i < PQntuples(r); i++)
        crm_workspace_add_user(ws, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    r = run(st, "dropbox_addresses", 0, NULL);
    if (!tuples_ok(r)) {
        crm_workspace_free(ws);
        return result_error(st, r, "loading dropbox addresses", err, errlen);
    }
    for (int i = 0; i < PQntuples(r); i++)
        crm_workspace_add_dropbox(ws, PQgetvalue(r, i, 0));
    PQclear(r);
    *out = ws;
    return 0;
}

int crm_store_user_add(crm_store *st, const crm_workspace *ws, const char *email,
                       const char *full_name, const char *role, char **id,
                       char *err, size_t errlen)
{
    const char *p[4] = { ws->id, email, full_name, role };
    PGresult *r = run(st, "user_insert", 4, p);

    *id = NULL;
    if (!tuples_ok(r))
        return result_error(st, r, "adding user", err, errlen);
    if (PQntuples(r) == 0) {
        PQclear(r);
        return CRM_STORE_EXISTS;
    }
    *id = g_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static void summary_free(gpointer p)
{
    crm_workspace_summary *s = p;

    g_free(s->name);
    g_free(s->id);
    g_free(s->domains);
    g_free(s);
}

int crm_store_workspace_list(crm_store *st, GPtrArray **out, char *err, size_t errlen)
{
    PGresult *r = run(st, "workspace_summaries", 0, NULL);

    *out = NULL;
    if (!tuples_ok(r))
        return result_error(st, r, "listing workspaces", err, errlen);
    *out = g_ptr_array_new_with_free_func(summary_free);
    for (int i = 0; i < PQntuples(r); i++) {
        crm_workspace_summary *s = g_new0(crm_workspace_summary, 1);
        s->name = g_strdup(PQgetvalue(r, i, 0));
        s->id = g_strdup(PQgetvalue(r, i, 1));
        s->domains = g_strdup(PQgetvalue(r, i, 2));
        s->users = atol(PQgetvalue(r, i, 3));
        s->contacts = atol(PQgetvalue(r, i, 4));
        s->accounts = atol(PQgetvalue(r, i, 5));
        s->interactions = atol(PQgetvalue(r, i, 6));
        s->jobs_pending = atol(PQgetvalue(r, i, 7));
        s->jobs_failed = atol(PQgetvalue(r, i, 8));
        g_ptr_array_add(*out, s);
    }
    PQclear(r);
    return 0;
}

/* ---- interactions ---------------------------------------------------- */

static int ensure_partition(crm_store *st, int64_t at, char *err, size_t errlen)
{
    int month = month_of(at);
    char ts[32];
    const char *p[1] = { ts };
    PGresult *r;

    if (g_hash_table_contains(st->months, GINT_TO_POINTER(month)))
        return 0;
    crm_store_format_time(at, ts);
    r = run(st, "ensure_partition", 1, p);
    if (!tuples_ok(r))
        return result_error(st, r, "creating the month's partition", err, errlen);
    PQclear(r);
    g_hash_table_add(st->months, GINT_TO_POINTER(month));
    return 0;
}

static void send_item(crm_store *st, const char *workspace_id, bool create_accounts,
                      const crm_store_item *it)
{
    char ts[32], rev[24];
    const char *embed = it->embed_text != NULL && *it->embed_text ? it->embed_text : NULL;
    const char *p[13] = {
        workspace_id, it->dedup_key, it->source, it->type, ts, it->content,
        it->metadata_json, it->parties_json, it->documents_json,
        create_accounts ? "t" : "f", embed, rev, it->fingerprint
    };

    crm_store_format_time(it->interacted_at, ts);
    g_snprintf(rev, sizeof rev, "%" G_GINT64_FORMAT, (gint64)it->revision);
    if (it->replace)
        PQsendQueryPrepared(st->conn, "store_revision", 13, p, NULL, NULL, 0);
    else
        PQsendQueryPrepared(st->conn, "store_interaction", 11, p, NULL, NULL, 0);
}

/* Send items[0..n) in one pipeline segment: one implicit transaction,
 * committed at the sync point. Returns 0 when it committed (outcomes
 * set), 1 when an item failed (the segment rolled back; that item's
 * error is set; *bad is its index), -1 when the connection failed. */
static int pipeline_segment(crm_store *st, const char *workspace_id, bool create_accounts,
                            crm_store_item *items, size_t n, size_t *bad,
                            char *err, size_t errlen)
{
    bool failed = false, broken = false;
    PGresult *r;

    if (PQenterPipelineMode(st->conn) != 1)
        return crm_err_set(err, errlen, "pipeline mode: %s", PQerrorMessage(st->conn));
    for (size_t i = 0; i < n; i++)
        send_item(st, workspace_id, create_accounts, &items[i]);
    if (PQpipelineSync(st->conn) != 1) {
        crm_err_set(err, errlen, "sending to the database: %s",
                    g_strstrip(PQerrorMessage(st->conn)));
        broken = true;
    }

    for (size_t i = 0; i < n && !broken; i++) {
        r = PQgetResult(st->conn);
        if (r == NULL) {
            broken = true;
            crm_err_set(err, errlen, "database: %s", g_strstrip(PQerrorMessage(st->conn)));
            break;
        }
        switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
            if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
                items[i].outcome = CRM_STORE_STORED;
                g_strlcpy(items[i].interaction_id, PQgetvalue(r, 0, 0),
                          sizeof items[i].interaction_id);
            } else {
                items[i].outcome = CRM_STORE_DUPLICATE;
            }
            break;
        case PGRES_PIPELINE_ABORTED:
            break;
        default:
            if (crm_db_is_transient(st->conn, r)) {
                broken = true;
                crm_err_set(err, errlen, "database: %s", g_strstrip(PQresultErrorMessage(r)));
            } else if (!failed) {
                failed = true;
                *bad = i;
                g_strlcpy(items[i].error, g_strstrip(PQresultErrorMessage(r)),
                          sizeof items[i].error);
            }
            break;
        }
        PQclear(r);
        /* each query's results end with a NULL */
        while ((r = PQgetResult(st->conn)) != NULL)
            PQclear(r);
    }
    if (!broken) {
        r = PQgetResult(st->conn);
        if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
            /* the COMMIT at the sync point failed: nothing is stored */
            if (r != NULL && !failed && !crm_db_is_transient(st->conn, r)) {
                failed = true;
                *bad = n;
            } else {
                broken = true;
                crm_err_set(err, errlen, "committing: %s",
                            g_strstrip(r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn)));
            }
        }
        PQclear(r);
    }
    if (!broken)
        PQexitPipelineMode(st->conn);
    if (broken || failed) {
        for (size_t i = 0; i < n; i++)
            items[i].outcome = CRM_STORE_PENDING;
    }
    if (broken) {
        /* a dead connection: reset it so that the next call can work */
        PQreset(st->conn);
        if (PQstatus(st->conn) == CONNECTION_OK) {
            PQclear(PQexec(st->conn, "SET TIME ZONE 'UTC'"));
            for (size_t k = 0; k < G_N_ELEMENTS(statements); k++)
                PQclear(PQprepare(st->conn, statements[k].name, statements[k].sql, 0, NULL));
        }
        return -1;
    }
    return failed ? 1 : 0;
}

static void refresh_stats(crm_store *st)
{
    /* best effort: a configured database may not let us ANALYZE */
    if (st->analyze_left <= 0)
        return;
    st->analyze_left--;
    PQclear(PQexec(st->conn, analyze_sql));
}

int crm_store_interactions(crm_store *st, const char *workspace_id, bool create_accounts,
                           crm_store_item *items, size_t n, char *err, size_t errlen)
{
    size_t bad = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        items[i].outcome = CRM_STORE_PENDING;
        items[i].error[0] = '\0';
        items[i].interaction_id[0] = '\0';
        if (ensure_partition(st, items[i].interacted_at, err, errlen) < 0)
            return -1;
    }
    if (n == 0)
        return 0;
    rc = pipeline_segment(st, workspace_id, create_accounts, items, n, &bad, err, errlen);
    if (rc == 0)
        refresh_stats(st);
    if (rc <= 0)
        return rc;

    /* One item spoiled the batch: store each alone so that only the bad
     * one is refused. Rare, so the extra round trips do not matter. */
    for (size_t i = 0; i < n; i++) {
        char keep[sizeof items[i].error];
        size_t b;

        rc = pipeline_segment(st, workspace_id, create_accounts, &items[i], 1, &b, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            g_strlcpy(keep, items[i].error[0] ? items[i].error : "the database refused it",
                      sizeof keep);
            /* A partition dropped behind our back: forget the cache, retry once. */
            if (strstr(keep, "no partition") != NULL) {
                g_hash_table_remove_all(st->months);
                if (ensure_partition(st, items[i].interacted_at, err, errlen) == 0 &&
                    pipeline_segment(st, workspace_id, create_accounts, &items[i], 1, &b,
                                     err, errlen) == 0)
                    continue;
            }
            items[i].outcome = CRM_STORE_REJECTED;
            g_strlcpy(items[i].error, keep, sizeof items[i].error);
        }
    }
    return 0;
}

int crm_store_mark_bounce(crm_store *st, const char *workspace_id, const char *email,
                          const char *status, const char *diagnostic, int64_t at,
                          bool *marked, char *err, size_t errlen)
{
    char ts[32];
    const char *p[5] = { workspace_id, email, status, diagnostic, ts };
    PGresult *r;

    crm_store_format_time(at, ts);
    r = run(st, "mark_bounce", 5, p);
    if (!tuples_ok(r))
        return result_error(st, r, "marking a bounce", err, errlen);
    *marked = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}
