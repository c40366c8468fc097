/*
 * NAME
 *	db 3 - the connection to PostgreSQL, configured or embedded
 * DESCRIPTION
 *	See db.h.
 */
#include <string.h>
#include <glib.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "pgcluster.h"

char *crm_db_conninfo(const crm_config *cfg, char *err, size_t errlen)
{
    char *ci = NULL;

    if (cfg->database_url != NULL)
        return g_strdup(cfg->database_url);
    if (crm_pgcluster_ensure(cfg->home, cfg->pg_bindir, &ci, err, errlen) < 0)
        return NULL;
    return ci;
}

void crm_db_set_session(PGconn *conn)
{
    /* Timestamps cross the wire as UTC text; names in UTC months. */
    PQclear(PQexec(conn, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'"));
}

PGconn *crm_db_connect(const crm_config *cfg, int flags, char *err, size_t errlen)
{
    char *ci = crm_db_conninfo(cfg, err, errlen);
    PGconn *conn;
    char sub[1024];

    if (ci == NULL)
        return NULL;
    conn = PQconnectdb(ci);
    g_free(ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        crm_err_set(err, errlen, "cannot connect to the database: %s",
                    g_strstrip(PQerrorMessage(conn)));
        PQfinish(conn);
        return NULL;
    }
    crm_db_set_session(conn);

    if (flags & CRM_DB_NO_SCHEMA_CHECK) {
        /* the caller (crmgate migrate) handles the schema itself */
    } else if (cfg->database_url == NULL) {
        if (crm_migrate(conn, NULL, sub, sizeof sub) < 0) {
            crm_err_set(err, errlen, "migrating the embedded database: %s", sub);
            PQfinish(conn);
            return NULL;
        }
    } else {
        int pending = crm_migrate_pending(conn, sub, sizeof sub);
        if (pending != 0) {
            if (pending < 0)
                crm_err_set(err, errlen, "%s", sub);
            else
                crm_err_set(err, errlen, "the database schema is %d migration(s) behind: "
                            "run \"crmgate migrate\"", pending);
            PQfinish(conn);
            return NULL;
        }
    }
    return conn;
}

const char *crm_db_sqlstate(const PGresult *r)
{
    const char *s = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s != NULL ? s : "";
}

int crm_db_is_transient(PGconn *conn, const PGresult *r)
{
    const char *state = crm_db_sqlstate(r);

    if (PQstatus(conn) != CONNECTION_OK)
        return 1;
    /* 08: connection exception; 57P: operator intervention (shutdown);
     * 53: insufficient resources; 40001/40P01: serialization, deadlock */
    return strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
           strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
           strcmp(state, "40P01") == 0;
}

int crm_db_prepare(PGconn *conn, const crm_db_statement *defs, size_t n,
                   char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQprepare(conn, defs[i].name, defs[i].sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            crm_err_set(err, errlen, "preparing %s: %s", defs[i].name,
                        g_strstrip(PQresultErrorMessage(r)));
            PQclear(r);
            return -1;
        }
        PQclear(r);
    }
    return 0;
}

int crm_db_fail(PGconn *conn, PGresult *r, const char *what, char *err, size_t errlen)
{
    crm_err_set(err, errlen, "%s: %s", what,
                g_strstrip(r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(conn)));
    PQclear(r);
    return -1;
}
