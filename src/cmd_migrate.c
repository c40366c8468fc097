/*
 * NAME
 *	cmd_migrate 3 - "crmgate migrate": bring the schema up to date
 */
#include <stdio.h>

#include "commands.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

static const char usage[] =
    "usage: crmgate migrate\n"
    "Apply the schema migrations the database has not seen yet, each in its\n"
    "own transaction. Running it again applies nothing.\n";

int cmd_migrate(crm_config *cfg, int argc, char **argv)
{
    char err[2048];
    unsigned applied = 0;
    PGconn *conn;
    int pending;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (argc != 1)
        return cli_usage(usage);
    conn = crm_db_connect(cfg, CRM_DB_NO_SCHEMA_CHECK, err, sizeof err);
    if (conn == NULL) {
        crm_die_msg("%s", err);
        return CRM_EXIT_FAILED;
    }
    if (crm_migrate(conn, &applied, err, sizeof err) < 0) {
        crm_die_msg("migrate: %s", err);
        PQfinish(conn);
        return CRM_EXIT_FAILED;
    }
    pending = crm_migrate_pending(conn, err, sizeof err);
    printf("migrations: applied %u, pending %d\n", applied, pending < 0 ? 0 : pending);
    PQfinish(conn);
    return CRM_EXIT_OK;
}
