/*
 * NAME
 *	db 3h - the connection to PostgreSQL, configured or embedded
 * DESCRIPTION
 *	crm_db_connect() opens the database the configuration names. With
 *	no database_url it starts (or reuses) the embedded cluster and
 *	applies pending migrations, so one command works on a fresh
 *	machine. With a configured database it only checks that the schema
 *	is current (migrating a shared database is the operator's call:
 *	"crmgate migrate"), unless flags say otherwise.
 * DIAGNOSTICS
 *	Returns a connection, or NULL with the reason in err.
 */
#ifndef CRM_DB_H
#define CRM_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#include "config.h"

enum {
    CRM_DB_NO_SCHEMA_CHECK = 1 << 0,	/* neither migrate nor check: "crmgate migrate" */
};

PGconn *crm_db_connect(const crm_config *cfg, int flags, char *err, size_t errlen);

/* The session settings crmgate's SQL relies on (timestamps as UTC text,
 * UTF-8 text); crm_db_connect() applies them, and so must whoever opens
 * or resets a connection another way. */
void crm_db_set_session(PGconn *conn);

/* The conninfo crm_db_connect() would use (embedded: started first). */
char *crm_db_conninfo(const crm_config *cfg, char *err, size_t errlen);

/* A prepared statement: its name and SQL. */
typedef struct crm_db_statement {
    const char *name;
    const char *sql;
} crm_db_statement;

/* Prepare each of defs[0..n) on conn: 0, or -1 with the statement named
 * in err. */
int crm_db_prepare(PGconn *conn, const crm_db_statement *defs, size_t n,
                   char *err, size_t errlen);

/* "what: the server's message" into err, PQclear(r) (r may be NULL:
 * the connection's message); returns -1. */
int crm_db_fail(PGconn *conn, PGresult *r, const char *what, char *err, size_t errlen);

/* SQLSTATE of a failed result, or "" */
const char *crm_db_sqlstate(const PGresult *r);

/* True when a failure means the server is unreachable or went away (the
 * caller should retry later) rather than that the statement was bad. */
int crm_db_is_transient(PGconn *conn, const PGresult *r);

#endif
