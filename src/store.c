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
#include "pg_array.h"
#include "store.h"

struct crm_store {
    PGconn *conn;
    GHashTable *months;		/* month numbers whose partition exists */
    int analyze_left;		/* ANALYZE runs still owed, see refresh_stats() */
    bool tenant_scope;		/* batches run as crmgate_tenant (sql/007) */
    bool people_first;		/* see crm_store_commit_people_first() */
    unsigned set_refusals;	/* see crm_store_set_refusals() */
    char set_refusal[256];
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


/* Every statement of the store is a key lookup or a call taking the
 * batch as arrays. A custom plan gains nothing on either, and builds the
 * parameters into the plan: a copy of the batch's megabytes of mail
 * text, at every Bind until the plan cache settles on the generic plan
 * (measured 20-110 ms a batch for the first five batches of a
 * connection, 2-5 ms after). */
static const char plan_mode_sql[] = "SET plan_cache_mode = force_generic_plan";

/* Whether this connection can confine its batches to their workspace:
 * the role exists, we may become it, and it may write interactions. */
static const char tenant_scope_sql[] =
    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crmgate_tenant')"
    " AND pg_has_role(current_user, (SELECT oid FROM pg_roles WHERE rolname = 'crmgate_tenant'),"
    "                 'MEMBER')"
    " AND has_table_privilege('crmgate_tenant', 'interactions', 'INSERT')";

/* Every statement of crmgate, in one place. */
static const crm_db_statement statements[] = {
    { "tenant_scope",
      "SELECT crmgate_tenant_scope($1::uuid)" },
    { "ensure_partitions",
      "SELECT crmgate_ensure_month_partitions($1::timestamptz[])" },
    { "store_interaction",
      "SELECT crmgate_store_interaction($1::uuid, $2, $3, $4::interaction_type,"
      " $5::timestamptz, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10::boolean, $11)" },
    { "source_advance",
      "SELECT crmgate_source_advance($1::bigint, $2, $3::jsonb, $4::jsonb)" },
    { "source_insert",
      "INSERT INTO sources (workspace_id, kind, settings) VALUES ($1::uuid, $2, $3::jsonb)"
      " RETURNING id" },
    { "source_delete",
      "DELETE FROM sources WHERE id = $1::bigint" },
    { "source_list",
      "SELECT s.id, w.name, w.id, s.kind, s.settings, s.state,"
      " coalesce(to_char(s.last_sync_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''),"
      " coalesce(s.last_error, ''),"
      " coalesce(to_char(s.last_error_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''),"
      " CASE WHEN s.lease_until > now() THEN coalesce(s.lease_holder, '') ELSE '' END,"
      " CASE WHEN s.lease_until > now() THEN"
      "   to_char(s.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') ELSE '' END,"
      " s.stored, s.duplicates, s.skipped, s.failed"
      " FROM sources s JOIN workspaces w ON w.id = s.workspace_id"
      " WHERE $1::text IS NULL OR s.kind = $1 ORDER BY s.id" },
    { "source_lease",
      "SELECT crmgate_source_lease($1::bigint, $2, $3::int)" },
    { "source_release",
      "UPDATE sources SET lease_holder = NULL, lease_until = NULL"
      " WHERE id = $1::bigint AND lease_holder = $2" },
    { "source_state",
      "UPDATE sources SET state = $2,"
      " last_sync_at = CASE WHEN $2 = 'idle' THEN now() ELSE last_sync_at END,"
      " last_error = CASE WHEN $2 = 'error' THEN $3 WHEN $2 = 'idle' THEN NULL ELSE last_error END,"
      " last_error_at = CASE WHEN $2 = 'error' THEN now() ELSE last_error_at END"
      " WHERE id = $1::bigint" },
    { "source_count",
      "UPDATE sources SET stored = stored + $2::bigint, duplicates = duplicates + $3::bigint,"
      " skipped = skipped + $4::bigint, failed = failed + $5::bigint WHERE id = $1::bigint" },
    { "source_failure",
      "INSERT INTO source_failures (source_id, workspace_id, folder, ref, reason)"
      " SELECT id, workspace_id, $2, $3, $4 FROM sources WHERE id = $1::bigint" },
    { "caldav_forget",
      "SELECT crmgate_caldav_forget($1::uuid, $2, $3::jsonb, $4::timestamptz, $5::timestamptz)" },
    { "source_cursor",
      "SELECT state FROM source_cursors WHERE source_id = $1::bigint AND folder = $2" },
    { "store_batch",
      "SELECT stored_item, stored_id FROM crmgate_store_batch($1::uuid, $2::boolean,"
      " $3::text[], $4::text[], $5::text[], $6::int8[], $7::text[], $8::text[], $9::text[],"
      " $10::text[], $11::text[])" },
    { "store_batch_people_first",
      "CALL crmgate_store_batch_people_first($1::uuid, $2::boolean,"
      " $3::text[], $4::text[], $5::text[], $6::int8[], $7::text[], $8::text[], $9::text[],"
      " $10::text[], $11::text[], NULL, NULL)" },
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
    { "blocklist_insert",
      "INSERT INTO workspace_blocklist (workspace_id, entry) VALUES ($1::uuid, lower($2))"
      " ON CONFLICT DO NOTHING" },
    { "blocklist_delete",
      "DELETE FROM workspace_blocklist WHERE workspace_id = $1::uuid AND entry = lower($2)" },
    { "blocklist_select",
      "SELECT entry FROM workspace_blocklist WHERE workspace_id = $1::uuid ORDER BY entry" },
    { "freemail_upsert",
      "INSERT INTO workspace_freemail (workspace_id, domain, freemail)"
      " VALUES ($1::uuid, lower($2), $3::boolean)"
      " ON CONFLICT (workspace_id, domain) DO UPDATE SET freemail = EXCLUDED.freemail" },
    { "freemail_delete",
      "DELETE FROM workspace_freemail WHERE workspace_id = $1::uuid AND domain = lower($2)" },
    { "freemail_select",
      "SELECT domain, CASE WHEN freemail THEN 'free-mail' ELSE 'corporate' END"
      " FROM workspace_freemail WHERE workspace_id = $1::uuid ORDER BY domain" },
    { "account_by_name",
      "SELECT id FROM accounts WHERE workspace_id = $1::uuid AND name = $2"
      " ORDER BY created_at LIMIT 1" },
    { "account_insert",
      "INSERT INTO accounts (workspace_id, name, website) VALUES ($1::uuid, $2, $3)"
      " RETURNING id" },
    { "account_domain_claim",
      "WITH ins AS (INSERT INTO account_domains (workspace_id, domain, account_id)"
      "             VALUES ($1::uuid, lower($2), $3::uuid) ON CONFLICT DO NOTHING RETURNING account_id)"
      " SELECT a.name FROM account_domains d JOIN accounts a ON a.id = d.account_id"
      "  WHERE d.workspace_id = $1::uuid AND d.domain = lower($2) AND d.account_id <> $3::uuid"
      "    AND NOT EXISTS (SELECT 1 FROM ins)" },
    { "account_select",
      "SELECT a.name, a.id,"
      " coalesce((SELECT string_agg(domain, ',' ORDER BY domain) FROM account_domains d"
      "           WHERE d.account_id = a.id), ''),"
      " (SELECT count(*) FROM contacts c WHERE c.account_id = a.id)"
      " FROM accounts a WHERE a.workspace_id = $1::uuid ORDER BY a.name, a.created_at" },
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
    /* sql/010_dropbox.sql */
    { "workspace_dropbox_senders",
      "SELECT dropbox_senders FROM workspaces WHERE id = $1::uuid" },
    { "workspace_set_dropbox_senders",
      "UPDATE workspaces SET dropbox_senders = $2 WHERE name = $1" },
    { "arrivals_take",
      "SELECT ord, arrival_id, arrivals FROM crmgate_arrivals_take($1::uuid, $2::text[],"
      " $3::int, $4::int) ORDER BY ord" },
    { "arrivals_give_back",
      "DELETE FROM dropbox_arrivals WHERE workspace_id = $1::uuid AND id = ANY($2::bigint[])" },
};

void crm_store_format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S+00", &tm);
}

int crm_store_month(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

/* What a connection needs to serve the store, on opening and after a
 * reset: the plan mode (best effort) and the statements. */
static int set_up_session(PGconn *conn, char *err, size_t errlen)
{
    PQclear(PQexec(conn, plan_mode_sql));
    return crm_db_prepare(conn, statements, G_N_ELEMENTS(statements), err, errlen);
}

crm_store *crm_store_open(PGconn *conn, char *err, size_t errlen)
{
    crm_store *st;

    if (set_up_session(conn, err, errlen) < 0) {
        PQfinish(conn);
        return NULL;
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
        r = PQexec(conn, tenant_scope_sql);
        st->tenant_scope = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                           strcmp(PQgetvalue(r, 0, 0), "t") == 0;
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
    return crm_db_fail(st->conn, r, what, err, errlen);
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

static int load_dropbox_senders(crm_store *st, crm_workspace *ws, char *err, size_t errlen);

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
    r = run(st, "blocklist_select", 1, p);
    if (!tuples_ok(r)) {
        crm_workspace_free(ws);
        return result_error(st, r, "loading the blocklist", err, errlen);
    }
    for (int i = 0; i < PQntuples(r); i++)
        crm_workspace_block(ws, PQgetvalue(r, i, 0));
    PQclear(r);
    r = run(st, "freemail_select", 1, p);
    if (!tuples_ok(r)) {
        crm_workspace_free(ws);
        return result_error(st, r, "loading free-mail corrections", err, errlen);
    }
    for (int i = 0; i < PQntuples(r); i++)
        crm_workspace_set_freemail(ws, PQgetvalue(r, i, 0),
                                   strcmp(PQgetvalue(r, i, 1), "free-mail") == 0);
    PQclear(r);
    if (load_dropbox_senders(st, ws, err, errlen) < 0) {
        crm_workspace_free(ws);
        return -1;
    }
    *out = ws;
    return 0;
}

/* ---- attribution rules (sql/009) ------------------------------------- */

/* Run a statement taking (workspace id, args...) for the workspace
 * named; *res is the successful result. */
static int run_for_workspace(crm_store *st, const char *name, const char *stmt,
                             int n_args, const char *const *args, const char *what,
                             PGresult **res, char *err, size_t errlen)
{
    const char *p[4] = { NULL, NULL, NULL, NULL };
    char *id = NULL;
    int rc = workspace_id(st, name, &id, err, errlen);
    PGresult *r;

    *res = NULL;
    if (rc != 0)
        return rc;
    p[0] = id;
    for (int i = 0; i < n_args && i < 3; i++)
        p[i + 1] = args[i];
    r = run(st, stmt, n_args + 1, p);
    g_free(id);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !tuples_ok(r))
        return result_error(st, r, what, err, errlen);
    *res = r;
    return 0;
}

/* A statement changing rows: 0 when one did, else none_rc. */
static int change_for_workspace(crm_store *st, const char *name, const char *stmt,
                                int n_args, const char *const *args, const char *what,
                                int none_rc, char *err, size_t errlen)
{
    PGresult *r;
    int rc = run_for_workspace(st, name, stmt, n_args, args, what, &r, err, errlen);

    if (rc != 0)
        return rc;
    rc = strcmp(PQcmdTuples(r), "0") != 0 ? 0 : none_rc;
    PQclear(r);
    return rc;
}

/* The rows of a listing statement, columns joined by tabs. */
static int list_for_workspace(crm_store *st, const char *name, const char *stmt,
                              const char *what, GPtrArray **out, char *err, size_t errlen)
{
    PGresult *r;
    int rc = run_for_workspace(st, name, stmt, 0, NULL, what, &r, err, errlen);

    *out = NULL;
    if (rc != 0)
        return rc;
    *out = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < PQntuples(r); i++) {
        GString *line = g_string_new(NULL);
        for (int c = 0; c < PQnfields(r); c++)
            g_string_append_printf(line, "%s%s", c > 0 ? "\t" : "", PQgetvalue(r, i, c));
        g_ptr_array_add(*out, g_string_free(line, FALSE));
    }
    PQclear(r);
    return 0;
}

int crm_store_blocklist_add(crm_store *st, const char *workspace, const char *entry,
                            char *err, size_t errlen)
{
    return change_for_workspace(st, workspace, "blocklist_insert", 1, &entry,
                                "adding to the blocklist", CRM_STORE_EXISTS, err, errlen);
}

int crm_store_blocklist_remove(crm_store *st, const char *workspace, const char *entry,
                               char *err, size_t errlen)
{
    return change_for_workspace(st, workspace, "blocklist_delete", 1, &entry,
                                "removing from the blocklist", CRM_STORE_NOT_FOUND, err, errlen);
}

int crm_store_blocklist_list(crm_store *st, const char *workspace, GPtrArray **out,
                             char *err, size_t errlen)
{
    return list_for_workspace(st, workspace, "blocklist_select", "listing the blocklist",
                              out, err, errlen);
}

int crm_store_freemail_set(crm_store *st, const char *workspace, const char *domain,
                           bool freemail, char *err, size_t errlen)
{
    const char *args[2] = { domain, freemail ? "true" : "false" };

    return change_for_workspace(st, workspace, "freemail_upsert", 2, args,
                                "recording the free-mail correction", 0, err, errlen);
}

int crm_store_freemail_reset(crm_store *st, const char *workspace, const char *domain,
                             char *err, size_t errlen)
{
    return change_for_workspace(st, workspace, "freemail_delete", 1, &domain,
                                "dropping the free-mail correction", CRM_STORE_NOT_FOUND,
                                err, errlen);
}

int crm_store_freemail_list(crm_store *st, const char *workspace, GPtrArray **out,
                            char *err, size_t errlen)
{
    return list_for_workspace(st, workspace, "freemail_select", "listing free-mail corrections",
                              out, err, errlen);
}

int crm_store_account_add(crm_store *st, const char *workspace, const char *name,
                          char *const *domains, size_t n_domains, char **id,
                          char *err, size_t errlen)
{
    const char *args[3] = { name, n_domains > 0 ? domains[0] : NULL, NULL };
    PGresult *r;
    int rc;

    *id = NULL;
    PQclear(PQexec(st->conn, "BEGIN"));
    rc = run_for_workspace(st, workspace, "account_by_name", 1, args, "looking up the account",
                           &r, err, errlen);
    if (rc == 0 && PQntuples(r) == 0) {
        PQclear(r);
        rc = run_for_workspace(st, workspace, "account_insert", 2, args, "adding the account",
                               &r, err, errlen);
    }
    if (rc == 0) {
        *id = g_strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    for (size_t i = 0; rc == 0 && i < n_domains; i++) {
        const char *claim[2] = { domains[i], *id };
        rc = run_for_workspace(st, workspace, "account_domain_claim", 2, claim,
                               "adding the account's domain", &r, err, errlen);
        if (rc == 0 && PQntuples(r) > 0) {
            crm_err_set(err, errlen, "%s already belongs to the account \"%s\"", domains[i],
                        PQgetvalue(r, 0, 0));
            rc = CRM_STORE_EXISTS;
        }
        if (r != NULL)
            PQclear(r);
    }
    r = PQexec(st->conn, rc == 0 ? "COMMIT" : "ROLLBACK");
    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
        return result_error(st, r, "adding the account", err, errlen);
    PQclear(r);
    if (rc != 0)
        g_clear_pointer(id, g_free);
    return rc;
}

int crm_store_account_list(crm_store *st, const char *workspace, GPtrArray **out,
                           char *err, size_t errlen)
{
    return list_for_workspace(st, workspace, "account_select", "listing accounts", out, err, errlen);
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

int crm_store_ensure_months(crm_store *st, const int64_t *at, size_t n, char *err, size_t errlen)
{
    GArray *months = g_array_new(FALSE, FALSE, sizeof(int));
    GPtrArray *stamps = g_ptr_array_new_with_free_func(g_free);
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        int month = crm_store_month(at[i]);
        bool listed = g_hash_table_contains(st->months, GINT_TO_POINTER(month));
        char *ts;

        for (guint k = 0; k < months->len && !listed; k++)
            listed = g_array_index(months, int, k) == month;
        if (listed)
            continue;
        ts = g_malloc(32);
        crm_store_format_time(at[i], ts);
        g_array_append_val(months, month);
        g_ptr_array_add(stamps, ts);
    }
    if (stamps->len > 0) {
        char *list = crm_pg_text_array_literal((const char *const *)stamps->pdata, stamps->len);
        const char *p[1] = { list };
        PGresult *r = run(st, "ensure_partitions", 1, p);

        g_free(list);
        if (!tuples_ok(r)) {
            rc = result_error(st, r, "creating the months' partitions", err, errlen);
        } else {
            PQclear(r);
            for (guint k = 0; k < months->len; k++)
                g_hash_table_add(st->months, GINT_TO_POINTER(g_array_index(months, int, k)));
        }
    }
    g_ptr_array_free(stamps, TRUE);
    g_array_free(months, TRUE);
    return rc;
}

static int ensure_partitions(crm_store *st, const crm_store_item *items, size_t n,
                             char *err, size_t errlen)
{
    int64_t *at = g_new(int64_t, n > 0 ? n : 1);
    int rc;

    for (size_t i = 0; i < n; i++)
        at[i] = items[i].interacted_at;
    rc = crm_store_ensure_months(st, at, n, err, errlen);
    g_free(at);
    return rc;
}

#define CONFLICT_RETRIES	8

static bool is_conflict(const PGresult *r)
{
    const char *state = crm_db_sqlstate(r);

    return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
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

static void send_scope(crm_store *st, const char *workspace_id)
{
    const char *p[1] = { workspace_id };

    PQsendQueryPrepared(st->conn, "tenant_scope", 1, p, NULL, NULL, 0);
}

/* items[0..n) as one crmgate_store_batch() call, the arrays in binary;
 * with people_first, as one crmgate_store_batch_people_first() call
 * (which scopes its transactions itself). False when they do not fit in
 * a parameter (then send them one by one). */
static bool send_batch(crm_store *st, const char *workspace_id, bool create_accounts,
                       const crm_store_item *items, size_t n, bool people_first)
{
    enum { KEYS, SOURCES, TYPES, AT, CONTENTS, METADATA, PARTIES, DOCUMENTS, EMBED, N_ARRAYS };
    crm_pg_array *a[N_ARRAYS];
    char *bytes[N_ARRAYS];
    int lens[N_ARRAYS];
    size_t text_bytes = 0;
    bool ok = true;

    for (size_t i = 0; i < n; i++)
        text_bytes += strlen(items[i].content) + 4;
    for (int k = 0; k < N_ARRAYS; k++)
        a[k] = crm_pg_array_new(k == AT ? CRM_PG_INT8 : CRM_PG_TEXT,
                                k == CONTENTS ? text_bytes : 256 * n);
    for (size_t i = 0; i < n; i++) {
        const crm_store_item *it = &items[i];
        crm_pg_array_add_text(a[KEYS], it->dedup_key);
        crm_pg_array_add_text(a[SOURCES], it->source);
        crm_pg_array_add_text(a[TYPES], it->type);
        crm_pg_array_add_int8(a[AT], it->interacted_at);
        crm_pg_array_add_text(a[CONTENTS], it->content);
        crm_pg_array_add_text(a[METADATA], it->metadata_json);
        crm_pg_array_add_text(a[PARTIES], it->parties_json);
        crm_pg_array_add_text(a[DOCUMENTS], it->documents_json);
        /* the text to embed is most often the content: "" says so
         * rather than sending it twice */
        crm_pg_array_add_text(a[EMBED], it->embed_text == NULL || *it->embed_text == '\0' ? NULL
                              : it->embed_text == it->content ? "" : it->embed_text);
    }
    for (int k = 0; k < N_ARRAYS; k++) {
        bytes[k] = crm_pg_array_finish(a[k], &lens[k]);
        ok = ok && bytes[k] != NULL;
    }
    if (ok) {
        const char *p[2 + N_ARRAYS] = { workspace_id, create_accounts ? "t" : "f" };
        int plen[2 + N_ARRAYS] = { 0 }, fmt[2 + N_ARRAYS] = { 0 };

        for (int k = 0; k < N_ARRAYS; k++) {
            p[2 + k] = bytes[k];
            plen[2 + k] = lens[k];
            fmt[2 + k] = 1;
        }
        PQsendQueryPrepared(st->conn, people_first ? "store_batch_people_first" : "store_batch",
                            2 + N_ARRAYS, p, plen, fmt, 0);
    }
    for (int k = 0; k < N_ARRAYS; k++)
        g_free(bytes[k]);
    return ok;
}

static void mark_stored(crm_store_item *items, size_t n, const char *item, const char *id)
{
    long i = strtol(item, NULL, 10);

    if (i < 1 || (size_t)i > n)
        return;
    items[i - 1].outcome = CRM_STORE_STORED;
    g_strlcpy(items[i - 1].interaction_id, id, sizeof items[i - 1].interaction_id);
}

/* The rows crmgate_store_batch() returned: the items stored, with ids;
 * the others were duplicates. people_first: one row of two arrays,
 * {item,...} and {id,...} (integers and uuids: no quoting), or NULLs. */
static void batch_outcomes(const PGresult *r, crm_store_item *items, size_t n,
                           bool people_first)
{
    for (size_t i = 0; i < n; i++)
        items[i].outcome = CRM_STORE_DUPLICATE;
    if (people_first) {
        char **item, **id;

        if (PQntuples(r) != 1 || PQnfields(r) != 2 || PQgetisnull(r, 0, 0) ||
            PQgetisnull(r, 0, 1))
            return;
        item = g_strsplit_set(PQgetvalue(r, 0, 0), "{,}", -1);
        id = g_strsplit_set(PQgetvalue(r, 0, 1), "{,}", -1);
        for (size_t k = 0; item[k] != NULL && id[k] != NULL; k++)
            if (*item[k] != '\0')
                mark_stored(items, n, item[k], id[k]);
        g_strfreev(item);
        g_strfreev(id);
        return;
    }
    for (int row = 0; row < PQntuples(r); row++)
        mark_stored(items, n, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1));
}

static void send_cursor(crm_store *st, const crm_source_cursor *c)
{
    char id[24];
    const char *p[4] = { id, c->folder, c->state_json, c->failures_json };

    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, c->source_id);
    PQsendQueryPrepared(st->conn, "source_advance", 4, p, NULL, NULL, 0);
}

/* The rest of one query's results in a pipeline: they end with a NULL. */
static void end_of_query(PGconn *conn)
{
    PGresult *r;

    while ((r = PQgetResult(conn)) != NULL)
        PQclear(r);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A caller's barrier, passed at most once per crm_store_interactions_at(). */
typedef struct commit_barrier {
    crm_store_barrier fn;	/* NULL: none */
    void *ctx;
    bool passed, failed;
    char err[256];
} commit_barrier;

#define SEGMENT_BARRIER_FAILED	3

/* Send items[0..n) (and the cursor, if any, last) in one pipeline
 * segment: one implicit transaction, committed at the sync point. With
 * as_set the items go in one crmgate_store_batch() call, else one
 * statement each. Returns 0 when it committed (outcomes set), 1 when an
 * item failed (the segment rolled back; that item's error is set; *bad
 * is its index, n for the cursor or the commit, 0 for a set), 2 on a
 * conflict worth trying again, SEGMENT_BARRIER_FAILED when the barrier
 * failed (rolled back), -1 when the connection failed. */
static int pipeline_segment(crm_store *st, const char *workspace_id, bool create_accounts,
                            crm_store_item *items, size_t n, const crm_source_cursor *cursor,
                            bool as_set, commit_barrier *cb, size_t *bad,
                            char *err, size_t errlen)
{
    bool failed = false, broken = false, conflict = false, rolled_back = false;
    PQnoticeProcessor notices = NULL;
    /* alone in its segment: a procedure that commits may not run in a
     * transaction block, nor the implicit one of several statements. It
     * scopes itself to the tenant, so only where the store can. */
    bool people_first = st->people_first && st->tenant_scope && as_set && n > 1 &&
                        cursor == NULL;
    bool scoped = st->tenant_scope && !people_first;
    size_t n_queries;
    PGresult *r;

    if (PQenterPipelineMode(st->conn) != 1)
        return crm_err_set(err, errlen, "pipeline mode: %s", PQerrorMessage(st->conn));
    /* PostgreSQL's row-level security, not only our WHERE clauses, keeps
     * this transaction inside its workspace */
    if (scoped)
        send_scope(st, workspace_id);
    if (as_set && n > 0 &&
        !send_batch(st, workspace_id, create_accounts, items, n, people_first)) {
        /* nothing was sent: the items go one by one, scoped */
        as_set = people_first = false;
        scoped = st->tenant_scope;
        if (scoped)
            send_scope(st, workspace_id);
    }
    n_queries = (as_set ? 1 : n) + (cursor != NULL);
    for (size_t i = 0; i < n && !as_set; i++)
        send_item(st, workspace_id, create_accounts, &items[i]);
    if (cursor != NULL)
        send_cursor(st, cursor);
    if (cb->fn != NULL && !cb->passed && !cb->failed) {
        /* the server works on the batch while the barrier waits */
        if (PQflush(st->conn) != 0) {
            crm_err_set(err, errlen, "sending to the database: %s",
                        g_strstrip(PQerrorMessage(st->conn)));
            broken = true;
        } else if (cb->fn(cb->ctx, cb->err, sizeof cb->err) < 0) {
            cb->failed = true;
        } else {
            cb->passed = true;
        }
    }
    if (cb->failed && !broken) {
        /* nothing of it may commit: the implicit transaction ends here.
         * Outside BEGIN, ROLLBACK warns that no transaction is in
         * progress, and rolls the implicit one back all the same: the
         * warning is not for the user (the store's connection keeps
         * libpq's default processor, whose argument is NULL). */
        notices = PQsetNoticeProcessor(st->conn, ignore_notice, NULL);
        PQsendQueryParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
        rolled_back = true;
    }
    if (!broken && PQpipelineSync(st->conn) != 1) {
        crm_err_set(err, errlen, "sending to the database: %s",
                    g_strstrip(PQerrorMessage(st->conn)));
        broken = true;
    }

    if (scoped && !broken) {
        r = PQgetResult(st->conn);
        if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
            if (r != NULL && !crm_db_is_transient(st->conn, r)) {
                failed = true;
                *bad = n;
                crm_err_set(err, errlen, "scoping the transaction to its workspace: %s",
                            g_strstrip(PQresultErrorMessage(r)));
            } else {
                broken = true;
                crm_err_set(err, errlen, "database: %s",
                            g_strstrip(r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn)));
            }
        }
        PQclear(r);
        if (!broken)
            end_of_query(st->conn);
    }
    for (size_t q = 0; q < n_queries && !broken; q++) {
        /* the item the result is for; n: the cursor's */
        size_t i = cursor != NULL && q == n_queries - 1 ? n : q;

        r = PQgetResult(st->conn);
        if (r == NULL) {
            broken = true;
            crm_err_set(err, errlen, "database: %s", g_strstrip(PQerrorMessage(st->conn)));
            break;
        }
        switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
            if (i == n) {
                /* the cursor advanced */
            } else if (as_set) {
                batch_outcomes(r, items, n, people_first);
            } else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
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
            if (is_conflict(r)) {
                /* another writer holds what this one needs: the whole
                 * segment rolls back and is tried again */
                if (!failed)
                    conflict = true;
            } else if (crm_db_is_transient(st->conn, r)) {
                broken = true;
                crm_err_set(err, errlen, "database: %s", g_strstrip(PQresultErrorMessage(r)));
            } else if (!failed) {
                failed = true;
                *bad = i;
                if (i < n && as_set) {
                    st->set_refusals++;
                    g_strlcpy(st->set_refusal, g_strstrip(PQresultErrorMessage(r)),
                              sizeof st->set_refusal);
                }
                if (i < n && !as_set)
                    g_strlcpy(items[i].error, g_strstrip(PQresultErrorMessage(r)),
                              sizeof items[i].error);
                else
                    crm_err_set(err, errlen, "advancing the source's cursor: %s",
                                g_strstrip(PQresultErrorMessage(r)));
            }
            break;
        }
        PQclear(r);
        end_of_query(st->conn);
    }
    if (rolled_back && !broken) {
        /* its result: done, or skipped as the pipeline had failed */
        PQclear(PQgetResult(st->conn));
        end_of_query(st->conn);
    }
    if (!broken) {
        r = PQgetResult(st->conn);
        if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
            /* the COMMIT at the sync point failed: nothing is stored */
            if (r != NULL && is_conflict(r)) {
                conflict = true;
            } else if (r != NULL && !failed && !crm_db_is_transient(st->conn, r)) {
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
    if (rolled_back)
        PQsetNoticeProcessor(st->conn, notices, NULL);
    if (!broken)
        PQexitPipelineMode(st->conn);
    if (broken || failed || conflict || rolled_back) {
        for (size_t i = 0; i < n; i++)
            items[i].outcome = CRM_STORE_PENDING;
    }
    if (broken) {
        /* a dead connection: reset it so that the next call can work */
        PQreset(st->conn);
        if (PQstatus(st->conn) == CONNECTION_OK) {
            char ignored[256];	/* a failure shows at the next call */
            crm_db_set_session(st->conn);
            (void)set_up_session(st->conn, ignored, sizeof ignored);
        }
        return -1;
    }
    return rolled_back ? SEGMENT_BARRIER_FAILED : failed ? 1 : conflict ? 2 : 0;
}

/* Run a segment, again while it meets a deadlock or serialization
 * failure with a concurrent writer (two batches creating the same new
 * contacts in different orders): PostgreSQL aborts one of them, and
 * after a short random pause it goes through. */
static int segment_retrying(crm_store *st, const char *workspace_id, bool create_accounts,
                            crm_store_item *items, size_t n, const crm_source_cursor *cursor,
                            bool as_set, commit_barrier *cb, size_t *bad,
                            char *err, size_t errlen)
{
    int rc = 2;

    for (int attempt = 0; attempt < CONFLICT_RETRIES && rc == 2; attempt++) {
        if (attempt > 0)
            g_usleep((gulong)g_random_int_range(1000, 5000 << MIN(attempt, 4)));
        rc = pipeline_segment(st, workspace_id, create_accounts, items, n, cursor, as_set,
                              cb, bad, err, errlen);
    }
    if (rc == 2)
        return crm_err_set(err, errlen, "a concurrent writer kept conflicting "
                           "(deadlock) after %d attempts", CONFLICT_RETRIES);
    return rc;
}

void crm_store_commit_people_first(crm_store *st, bool on)
{
    st->people_first = on;
}

void crm_store_leave_statistics(crm_store *st)
{
    st->analyze_left = 0;
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
    return crm_store_interactions_at(st, workspace_id, create_accounts, items, n, NULL,
                                     NULL, NULL, err, errlen);
}

/* Every item refused with the barrier's reason: nothing of them committed. */
static int refuse_all(crm_store_item *items, size_t n, const commit_barrier *cb)
{
    for (size_t i = 0; i < n; i++) {
        items[i].outcome = CRM_STORE_REJECTED;
        g_strlcpy(items[i].error, cb->err, sizeof items[i].error);
    }
    return 0;
}

int crm_store_interactions_at(crm_store *st, const char *workspace_id, bool create_accounts,
                              crm_store_item *items, size_t n, const crm_source_cursor *cursor,
                              crm_store_barrier barrier, void *barrier_ctx,
                              char *err, size_t errlen)
{
    commit_barrier cb = { .fn = barrier, .ctx = barrier_ctx };
    size_t bad = 0;
    bool as_set = n > 1;
    int rc;

    for (size_t i = 0; i < n; i++) {
        /* a newer version replacing an older one is stored on its own */
        as_set = as_set && !items[i].replace;
        items[i].outcome = CRM_STORE_PENDING;
        items[i].error[0] = '\0';
        items[i].interaction_id[0] = '\0';
    }
    if (ensure_partitions(st, items, n, err, errlen) < 0)
        return -1;
    if (n == 0 && cursor == NULL)
        return 0;
    rc = segment_retrying(st, workspace_id, create_accounts, items, n, cursor, as_set, &cb,
                          &bad, err, errlen);
    if (rc == SEGMENT_BARRIER_FAILED)
        return refuse_all(items, n, &cb);
    if (rc == 0 && n > 0)
        refresh_stats(st);
    if (rc <= 0)
        return rc;
    if (bad == n && cursor != NULL && n == 0)
        return -1;	/* the cursor alone was refused: err says why */

    /* One item spoiled the batch: store each alone so that only the bad
     * one is refused. Rare, so the extra round trips do not matter. The
     * first segment passed the barrier: these do not meet it again. */
    for (size_t i = 0; i < n; i++) {
        char keep[sizeof items[i].error];
        size_t b;

        rc = segment_retrying(st, workspace_id, create_accounts, &items[i], 1, NULL, false,
                              &cb, &b, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            g_strlcpy(keep, items[i].error[0] ? items[i].error : "the database refused it",
                      sizeof keep);
            /* A partition dropped behind our back: forget the cache, retry once. */
            if (strstr(keep, "no partition") != NULL) {
                g_hash_table_remove_all(st->months);
                if (ensure_partitions(st, &items[i], 1, err, errlen) == 0 &&
                    segment_retrying(st, workspace_id, create_accounts, &items[i], 1, NULL,
                                     false, &cb, &b, err, errlen) == 0)
                    continue;
            }
            items[i].outcome = CRM_STORE_REJECTED;
            g_strlcpy(items[i].error, keep, sizeof items[i].error);
        }
    }
    if (cursor != NULL) {
        size_t b;
        rc = segment_retrying(st, workspace_id, create_accounts, NULL, 0, cursor, false, &cb,
                              &b, err, errlen);
        if (rc != 0)
            return -1;
    }
    return 0;
}

unsigned crm_store_set_refusals(const crm_store *st, const char **last_reason)
{
    *last_reason = st->set_refusal;
    return st->set_refusals;
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

/* ---- sources ---------------------------------------------------------- */

void crm_source_free(crm_source *s)
{
    if (s == NULL)
        return;
    g_free(s->workspace);
    g_free(s->workspace_id);
    g_free(s->kind);
    g_free(s->settings);
    g_free(s->state);
    g_free(s->last_sync_at);
    g_free(s->last_error);
    g_free(s->last_error_at);
    g_free(s->lease_holder);
    g_free(s->lease_until);
    g_free(s);
}

/* Run a statement that returns no rows; 0 or -1. *affected: rows. */
static int run_command(crm_store *st, const char *name, int n, const char *const *params,
                       const char *what, long *affected, char *err, size_t errlen)
{
    PGresult *r = run(st, name, n, params);

    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return result_error(st, r, what, err, errlen);
    if (affected != NULL)
        *affected = atol(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

int crm_store_source_add(crm_store *st, const char *workspace, const char *kind,
                         const char *settings_json, int64_t *id, char *err, size_t errlen)
{
    char *ws_id = NULL;
    int rc = workspace_id(st, workspace, &ws_id, err, errlen);
    PGresult *r;

    if (rc != 0)
        return rc;
    const char *p[3] = { ws_id, kind, settings_json };
    r = run(st, "source_insert", 3, p);
    g_free(ws_id);
    if (!tuples_ok(r) || PQntuples(r) != 1)
        return result_error(st, r, "adding source", err, errlen);
    *id = g_ascii_strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int crm_store_source_remove(crm_store *st, int64_t id, char *err, size_t errlen)
{
    char ids[24];
    const char *p[1] = { ids };
    long n = 0;

    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    if (run_command(st, "source_delete", 1, p, "removing source", &n, err, errlen) < 0)
        return -1;
    if (n == 0) {
        crm_err_set(err, errlen, "no source with id %s", ids);
        return CRM_STORE_NOT_FOUND;
    }
    return 0;
}

int crm_store_source_list(crm_store *st, const char *kind, GPtrArray **out,
                          char *err, size_t errlen)
{
    const char *p[1] = { kind };
    PGresult *r = run(st, "source_list", 1, p);

    *out = NULL;
    if (!tuples_ok(r))
        return result_error(st, r, "listing sources", err, errlen);
    *out = g_ptr_array_new_with_free_func((GDestroyNotify)crm_source_free);
    for (int i = 0; i < PQntuples(r); i++) {
        crm_source *s = g_new0(crm_source, 1);
        s->id = g_ascii_strtoll(PQgetvalue(r, i, 0), NULL, 10);
        s->workspace = g_strdup(PQgetvalue(r, i, 1));
        s->workspace_id = g_strdup(PQgetvalue(r, i, 2));
        s->kind = g_strdup(PQgetvalue(r, i, 3));
        s->settings = g_strdup(PQgetvalue(r, i, 4));
        s->state = g_strdup(PQgetvalue(r, i, 5));
        s->last_sync_at = g_strdup(PQgetvalue(r, i, 6));
        s->last_error = g_strdup(PQgetvalue(r, i, 7));
        s->last_error_at = g_strdup(PQgetvalue(r, i, 8));
        s->lease_holder = g_strdup(PQgetvalue(r, i, 9));
        s->lease_until = g_strdup(PQgetvalue(r, i, 10));
        s->stored = atol(PQgetvalue(r, i, 11));
        s->duplicates = atol(PQgetvalue(r, i, 12));
        s->skipped = atol(PQgetvalue(r, i, 13));
        s->failed = atol(PQgetvalue(r, i, 14));
        g_ptr_array_add(*out, s);
    }
    PQclear(r);
    return 0;
}

int crm_store_source_lease(crm_store *st, int64_t id, const char *holder, int seconds,
                           bool *held, char *err, size_t errlen)
{
    char ids[24], secs[16];
    const char *p[3] = { ids, holder, secs };
    PGresult *r;

    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    g_snprintf(secs, sizeof secs, "%d", seconds);
    r = run(st, "source_lease", 3, p);
    if (!tuples_ok(r))
        return result_error(st, r, "taking the source's lease", err, errlen);
    *held = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    PQclear(r);
    return 0;
}

int crm_store_source_release(crm_store *st, int64_t id, const char *holder,
                             char *err, size_t errlen)
{
    char ids[24];
    const char *p[2] = { ids, holder };

    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    return run_command(st, "source_release", 2, p, "releasing the source's lease", NULL,
                       err, errlen);
}

int crm_store_source_state(crm_store *st, int64_t id, const char *state, const char *error,
                           char *err, size_t errlen)
{
    char ids[24];
    const char *p[3] = { ids, state, error };

    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    return run_command(st, "source_state", 3, p, "recording the source's state", NULL,
                       err, errlen);
}

int crm_store_source_count(crm_store *st, int64_t id, long stored, long duplicates,
                           long skipped, long failed, char *err, size_t errlen)
{
    char v[5][24];
    const char *p[5] = { v[0], v[1], v[2], v[3], v[4] };

    if (stored == 0 && duplicates == 0 && skipped == 0 && failed == 0)
        return 0;
    g_snprintf(v[0], sizeof v[0], "%" G_GINT64_FORMAT, id);
    g_snprintf(v[1], sizeof v[1], "%ld", stored);
    g_snprintf(v[2], sizeof v[2], "%ld", duplicates);
    g_snprintf(v[3], sizeof v[3], "%ld", skipped);
    g_snprintf(v[4], sizeof v[4], "%ld", failed);
    return run_command(st, "source_count", 5, p, "counting the source's messages", NULL,
                       err, errlen);
}

int crm_store_source_failure(crm_store *st, int64_t id, const char *folder, const char *ref,
                             const char *reason, char *err, size_t errlen)
{
    char ids[24];
    const char *p[4] = { ids, folder, ref, reason };

    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    return run_command(st, "source_failure", 4, p, "recording a failed message", NULL,
                       err, errlen);
}

int crm_store_source_cursor(crm_store *st, int64_t id, const char *folder, char **state_json,
                            char *err, size_t errlen)
{
    char ids[24];
    const char *p[2] = { ids, folder };
    PGresult *r;

    *state_json = NULL;
    g_snprintf(ids, sizeof ids, "%" G_GINT64_FORMAT, id);
    r = run(st, "source_cursor", 2, p);
    if (!tuples_ok(r))
        return result_error(st, r, "reading the source's cursor", err, errlen);
    if (PQntuples(r) == 1)
        *state_json = g_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* Run a statement in a transaction of its own, scoped to the
 * workspace as batches are. */
static PGresult *run_scoped(crm_store *st, const char *workspace_id, const char *name, int n,
                            const char *const *params, ExecStatusType want, const char *what,
                            char *err, size_t errlen)
{
    PGresult *r;

    PQclear(PQexec(st->conn, "BEGIN"));
    if (st->tenant_scope) {
        const char *s[1] = { workspace_id };
        r = run(st, "tenant_scope", 1, s);
        if (!tuples_ok(r)) {
            result_error(st, r, "scoping to the workspace", err, errlen);
            PQclear(PQexec(st->conn, "ROLLBACK"));
            return NULL;
        }
        PQclear(r);
    }
    r = run(st, name, n, params);
    if (PQresultStatus(r) != want) {
        result_error(st, r, what, err, errlen);
        PQclear(PQexec(st->conn, "ROLLBACK"));
        return NULL;
    }
    PGresult *c = PQexec(st->conn, "COMMIT");
    if (PQresultStatus(c) != PGRES_COMMAND_OK) {
        PQclear(r);
        result_error(st, c, what, err, errlen);
        return NULL;
    }
    PQclear(c);
    return r;
}

int crm_store_caldav_forget(crm_store *st, const char *workspace_id, const char *href,
                            const char *keep_json, int64_t from, int64_t to, long *marked,
                            char *err, size_t errlen)
{
    char f[32], t[32];
    const char *p[5] = { workspace_id, href, keep_json, NULL, NULL };
    PGresult *r;

    *marked = 0;
    if (from != 0 || to != 0) {
        crm_store_format_time(from, f);
        crm_store_format_time(to, t);
        p[3] = f;
        p[4] = t;
    }
    /* the same confinement to the workspace as a batch of meetings */
    r = run_scoped(st, workspace_id, "caldav_forget", 5, p, PGRES_TUPLES_OK,
                   "marking removed meetings cancelled", err, errlen);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 1)
        *marked = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* ---- the dropbox (sql/010_dropbox.sql) ---------------------------------- */

static int load_dropbox_senders(crm_store *st, crm_workspace *ws, char *err, size_t errlen)
{
    const char *p[1] = { ws->id };
    PGresult *r = run(st, "workspace_dropbox_senders", 1, p);

    if (!tuples_ok(r))
        return result_error(st, r, "loading the workspace's dropbox senders", err, errlen);
    ws->dropbox_anyone = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "anyone") == 0;
    PQclear(r);
    return 0;
}

int crm_store_workspace_set_dropbox_senders(crm_store *st, const char *name, const char *senders,
                                            char *err, size_t errlen)
{
    const char *p[2] = { name, senders };
    long n = 0;

    if (run_command(st, "workspace_set_dropbox_senders", 2, p, "setting dropbox senders", &n,
                    err, errlen) < 0)
        return -1;
    if (n == 0) {
        crm_err_set(err, errlen, "no workspace named \"%s\"", name);
        return CRM_STORE_NOT_FOUND;
    }
    return 0;
}

int crm_store_arrivals_take(crm_store *st, const char *workspace_id, const char *const *keys,
                            size_t n, unsigned window_s, unsigned limit, int64_t *ids,
                            unsigned *counts, char *err, size_t errlen)
{
    char win[16], lim[16], *arr;
    PGresult *r;

    if (n == 0)
        return 0;
    arr = crm_pg_text_array_literal(keys, n);
    g_snprintf(win, sizeof win, "%u", MIN(window_s, (unsigned)G_MAXINT));
    g_snprintf(lim, sizeof lim, "%u", MIN(limit, (unsigned)G_MAXINT));
    const char *p[4] = { workspace_id, arr, win, lim };
    r = run_scoped(st, workspace_id, "arrivals_take", 4, p, PGRES_TUPLES_OK,
                   "counting dropbox arrivals", err, errlen);
    g_free(arr);
    if (r == NULL)
        return -1;
    if ((size_t)PQntuples(r) != n) {
        PQclear(r);
        return crm_err_set(err, errlen, "counting dropbox arrivals: %zu keys, %d answers", n,
                           PQntuples(r));
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = g_ascii_strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
        counts[i] = (unsigned)g_ascii_strtoull(PQgetvalue(r, (int)i, 2), NULL, 10);
    }
    PQclear(r);
    return 0;
}

int crm_store_arrivals_give_back(crm_store *st, const char *workspace_id, const int64_t *ids,
                                 size_t n, char *err, size_t errlen)
{
    GString *a = g_string_new("{");
    size_t used = 0;
    PGresult *r;

    for (size_t i = 0; i < n; i++) {
        if (ids[i] <= 0)
            continue;
        g_string_append_printf(a, "%s%" G_GINT64_FORMAT, used++ ? "," : "", (gint64)ids[i]);
    }
    g_string_append_c(a, '}');
    if (used == 0) {
        g_string_free(a, TRUE);
        return 0;
    }
    const char *p[2] = { workspace_id, a->str };
    r = run_scoped(st, workspace_id, "arrivals_give_back", 2, p, PGRES_COMMAND_OK,
                   "forgetting dropbox arrivals", err, errlen);
    g_string_free(a, TRUE);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}
