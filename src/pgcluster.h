/*
 * NAME
 *	pgcluster 3h - crmgate's own private PostgreSQL cluster
 * DESCRIPTION
 *	When no database is configured, crmgate runs PostgreSQL itself:
 *	initdb into HOME/pg/data on first use, pg_ctl start with the server
 *	listening on a Unix socket in HOME/pg/run only (no TCP), database
 *	"crmgate" created. A running cluster is reused; a lock file
 *	serialises two crmgate processes starting it at once.
 *
 *	PostgreSQL refuses to run as root, so when crmgate is root the server
 *	runs as the "postgres" system user, which then owns HOME/pg; HOME
 *	itself is made traversable (0711) for it, and every parent directory
 *	must already be (a home under /root is not: see config.h).
 * DIAGNOSTICS
 *	Return 0, or -1 with a reason in err that includes the tail of the
 *	server log or of initdb's output when they failed.
 */
#ifndef CRM_PGCLUSTER_H
#define CRM_PGCLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#define CRM_EMBEDDED_DBNAME "crmgate"
#define CRM_EMBEDDED_DBUSER "crmgate"

/* Start (or find running) the cluster and make sure the database exists.
 * *conninfo receives a g_malloc()ed libpq conninfo for it. */
int crm_pgcluster_ensure(const char *home, const char *bindir, char **conninfo,
                         char *err, size_t errlen);

/* The conninfo the cluster under home answers on (running or not). */
char *crm_pgcluster_conninfo(const char *home, const char *dbname);

/* Stop it (fast shutdown: in-flight transactions are rolled back, none
 * committed is lost). *was_running tells whether there was one. */
int crm_pgcluster_stop(const char *home, const char *bindir, bool *was_running,
                       char *err, size_t errlen);

#endif
