/*
 * NAME
 *	crmgate - mail and calendar ingestion gateway for the CRM
 * SYNOPSIS
 *	crmgate [-c FILE] [--KEY VALUE]... COMMAND [ARGS]
 * DESCRIPTION
 *	main() only assembles the configuration (defaults, file,
 *	environment, --KEY flags, in that order of precedence) and hands
 *	over to the command. The data flow lives below it:
 *	  ingest.c (sources) -> pipeline.c -> parsers/ (parse)
 *	  -> matcher.c (who) -> store.c (one transaction) -> embedding_jobs
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>


#include "crmgate-build.h"

#include "commands.h"
#include "config.h"
#include "log.h"
#include "mail_message.h"

typedef struct command {
    const char *name;
    int (*run)(crm_config *cfg, int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "migrate", cmd_migrate, "apply pending schema migrations" },
    { "workspace", cmd_workspace, "add, list workspaces and their own domains" },
    { "user", cmd_user, "add a user (a colleague) to a workspace" },
    { "ingest", cmd_ingest, "import .eml, mbox and Maildir mail" },
    { "serve", cmd_serve, "receive dropbox mail (SMTP, LMTP) and sync mailboxes" },
    { "source", cmd_source, "connected mailboxes: add, list, remove" },
    { "embed", cmd_embed, "embed queued texts with Voyage (the worker)" },
    { "search", cmd_search, "semantic search over a workspace's interactions" },
    { "blocklist", cmd_blocklist, "addresses and domains a workspace never logs" },
    { "freemail", cmd_freemail, "a workspace's corrections to the free-mail list" },
    { "account", cmd_account, "accounts and the mail domains they own" },
    { "status", cmd_status, "what each workspace holds" },
    { "db", cmd_db, "the database in use: url, stop" },
};

static void print_usage(FILE *f)
{
    fputs("usage: crmgate [-c FILE] [--KEY VALUE]... COMMAND [ARGS]\n"
          "       crmgate --version\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n--KEY VALUE sets any crmgate.conf(5) key, e.g. --batch-size 200.\n"
          "\"crmgate COMMAND --help\" tells more.\n", f);
}

int main(int argc, char **argv)
{
    crm_config cfg;
    const char *config_file = getenv("CRMGATE_CONFIG");
    GPtrArray *flags = g_ptr_array_new_with_free_func(g_free);	/* key, value, ... */
    char err[1024];
    int i, rc;

    setlocale(LC_ALL, "C.UTF-8");
    crm_log_init("crmgate", CRM_LOG_INFO);

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("crmgate %s\n", PACKAGE_VERSION);
            g_ptr_array_free(flags, TRUE);
            return CRM_EXIT_OK;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            g_ptr_array_free(flags, TRUE);
            return CRM_EXIT_OK;
        }
        if (strcmp(a, "-c") == 0 && i + 1 < argc) {
            config_file = argv[++i];
        } else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            const char *eq = strchr(a, '=');
            if (eq != NULL) {
                g_ptr_array_add(flags, g_strndup(a + 2, (gsize)(eq - a - 2)));
                g_ptr_array_add(flags, g_strdup(eq + 1));
            } else if (i + 1 < argc) {
                g_ptr_array_add(flags, g_strdup(a + 2));
                g_ptr_array_add(flags, g_strdup(argv[++i]));
            } else {
                crm_die_msg("%s needs a value", a);
                return CRM_EXIT_USAGE;
            }
        } else {
            break;
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return CRM_EXIT_USAGE;
    }

    g_ptr_array_add(flags, NULL);
    rc = crm_config_build(&cfg, config_file, (char *const *)flags->pdata, err, sizeof err);
    g_ptr_array_free(flags, TRUE);
    if (rc < 0) {
        crm_die_msg("%s", err);
        crm_config_free(&cfg);
        return CRM_EXIT_USAGE;
    }
    crm_log_init("crmgate", crm_log_level_parse(cfg.log_level));
    crm_log_use_syslog(cfg.syslog);
    crm_parsers_init();

    rc = -1;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            rc = commands[k].run(&cfg, argc - i, argv + i);
            break;
        }
    }
    if (rc == -1) {
        crm_die_msg("unknown command \"%s\"", argv[i]);
        print_usage(stderr);
        rc = CRM_EXIT_USAGE;
    }
    crm_config_free(&cfg);
    return rc;
}
