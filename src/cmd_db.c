/*
 * NAME
 *	cmd_db 3 - "crmgate db url|stop": the database crmgate uses
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "db.h"
#include "log.h"
#include "pgcluster.h"

static const char usage[] =
    "usage: crmgate db url\n"
    "       crmgate db stop\n"
    "url prints the libpq conninfo of the database in use (starting the\n"
    "embedded cluster if that is the one); stop stops the embedded cluster.\n";

int cmd_db(crm_config *cfg, int argc, char **argv)
{
    char err[2048];

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (argc != 2)
        return cli_usage(usage);
    if (strcmp(argv[1], "url") == 0) {
        /* connecting also migrates the embedded database */
        PGconn *c = crm_db_connect(cfg, 0, err, sizeof err);
        char *ci;
        if (c == NULL) {
            crm_die_msg("%s", err);
            return CRM_EXIT_FAILED;
        }
        PQfinish(c);
        ci = crm_db_conninfo(cfg, err, sizeof err);
        printf("%s\n", ci);
        g_free(ci);
        return CRM_EXIT_OK;
    }
    if (strcmp(argv[1], "stop") == 0) {
        bool was_running = false;
        if (cfg->database_url != NULL) {
            crm_die_msg("db stop: a configured database_url is not crmgate's to stop");
            return CRM_EXIT_USAGE;
        }
        if (crm_pgcluster_stop(cfg->home, cfg->pg_bindir, &was_running, err, sizeof err) < 0) {
            crm_die_msg("db stop: %s", err);
            return CRM_EXIT_FAILED;
        }
        printf("%s\n", was_running ? "stopped" : "not running");
        return CRM_EXIT_OK;
    }
    return cli_usage(usage);
}
