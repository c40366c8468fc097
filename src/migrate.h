/*
 * NAME
 *	migrate 3h - apply the numbered schema migrations
 * DESCRIPTION
 *	The migrations are the files sql/NNN_name.sql, compiled into the
 *	binary (contrib/embed-sql generates src/migrations.c). crm_migrate()
 *	applies, in order, each one not yet recorded in schema_migrations,
 *	each in its own transaction, under an advisory lock so that two
 *	gateways starting together never apply one twice.
 * DIAGNOSTICS
 *	Returns 0, or -1 with "FILE: server message" in err; a failed
 *	migration is rolled back whole and later ones are not tried.
 */
#ifndef CRM_MIGRATE_H
#define CRM_MIGRATE_H

#include <stddef.h>

typedef struct crm_migration {
    const char *name;		/* file name, e.g. "001_seed_schema.sql" */
    const char *sql;
} crm_migration;

extern const crm_migration crm_migrations[];
extern const unsigned crm_migration_count;

#include <libpq-fe.h>

/* *applied receives how many migrations were applied now (may be NULL). */
int crm_migrate(PGconn *conn, unsigned *applied, char *err, size_t errlen);

/* Number of compiled-in migrations the database has not applied yet,
 * or -1 with err set. */
int crm_migrate_pending(PGconn *conn, char *err, size_t errlen);

#endif
