/*
 * NAME
 *	migrate 3 - apply the numbered schema migrations
 * DESCRIPTION
 *	See migrate.h. The version recorded is the file name; files are
 *	applied in name order, which the NNN_ prefix makes numeric order.
 */
#include <string.h>
#include <glib.h>
#include <libpq-fe.h>

#include "log.h"
#include "migrate.h"

/* pg_advisory_lock key: "crmgate migrate" */
#define MIGRATE_LOCK_KEY "7248190011"

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = crm_err_set(err, errlen, "%s: %s", what, g_strstrip(PQresultErrorMessage(r)));
    PQclear(r);
    return rc;
}

static GHashTable *applied_versions(PGconn *c, char *err, size_t errlen)
{
    PGresult *r;
    GHashTable *set;

    if (exec_ok(c, "SET client_min_messages = warning;"
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version TEXT PRIMARY KEY,"
                   " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                err, errlen, "schema_migrations") < 0)
        return NULL;
    r = PQexec(c, "SELECT version FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        crm_err_set(err, errlen, "schema_migrations: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < PQntuples(r); i++)
        g_hash_table_add(set, g_strdup(PQgetvalue(r, i, 0)));
    PQclear(r);
    return set;
}

int crm_migrate_pending(PGconn *c, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT version FROM schema_migrations");
    GHashTable *set;
    int pending = 0;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        /* no table yet: everything is pending */
        int missing = strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ?
                             PQresultErrorField(r, PG_DIAG_SQLSTATE) : "", "42P01") == 0;
        PQclear(r);
        if (missing)
            return (int)crm_migration_count;
        return crm_err_set(err, errlen, "reading schema_migrations: %s", PQerrorMessage(c));
    }
    set = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < PQntuples(r); i++)
        g_hash_table_add(set, PQgetvalue(r, i, 0));
    for (unsigned i = 0; i < crm_migration_count; i++)
        if (!g_hash_table_contains(set, crm_migrations[i].name))
            pending++;
    g_hash_table_destroy(set);
    PQclear(r);
    return pending;
}

static int apply_one(PGconn *c, const crm_migration *m, char *err, size_t errlen)
{
    const char *params[1] = { m->name };
    PGresult *r;

    if (exec_ok(c, "BEGIN", err, errlen, m->name) < 0)
        return -1;
    r = PQexec(c, m->sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        crm_err_set(err, errlen, "sql/%s: %s", m->name, g_strstrip(PQresultErrorMessage(r)));
        PQclear(r);
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    PQclear(r);
    r = PQexecParams(c, "INSERT INTO schema_migrations (version) VALUES ($1)",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        crm_err_set(err, errlen, "sql/%s: recording it: %s", m->name, PQresultErrorMessage(r));
        PQclear(r);
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    PQclear(r);
    return exec_ok(c, "COMMIT", err, errlen, m->name);
}

int crm_migrate(PGconn *c, unsigned *applied, char *err, size_t errlen)
{
    GHashTable *done;
    unsigned n = 0;
    int rc = 0;

    if (applied != NULL)
        *applied = 0;
    if (exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen, "lock") < 0)
        return -1;
    done = applied_versions(c, err, errlen);
    if (done == NULL) {
        rc = -1;
    } else {
        for (unsigned i = 0; i < crm_migration_count && rc == 0; i++) {
            if (g_hash_table_contains(done, crm_migrations[i].name))
                continue;
            rc = apply_one(c, &crm_migrations[i], err, errlen);
            if (rc == 0)
                n++;
        }
        g_hash_table_destroy(done);
    }
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    if (applied != NULL)
        *applied = n;
    return rc;
}
