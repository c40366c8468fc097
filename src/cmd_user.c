/*
 * NAME
 *	cmd_user 3 - "crmgate user add": a colleague of the workspace
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate user add --workspace NAME --email EMAIL [--name FULL] [--role admin|agent]\n"
    "A user's mail is internal: it sets who logged an interaction and\n"
    "never creates a contact.\n";

int cmd_user(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { "email", required_argument, NULL, 'e' },
        { "name", required_argument, NULL, 'n' },
        { "role", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    const char *wsname = NULL, *email_arg = NULL, *name = NULL, *role = "agent";
    char err[1024], *email, *id = NULL;
    crm_workspace *ws;
    crm_store *st;
    int c, rc;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return cli_usage(usage);
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'w': wsname = optarg; break;
        case 'e': email_arg = optarg; break;
        case 'n': name = optarg; break;
        case 'r': role = optarg; break;
        default: return cli_usage(usage);
        }
    }
    if (wsname == NULL || email_arg == NULL || optind != argc)
        return cli_usage(usage);
    if (strcmp(role, "admin") != 0 && strcmp(role, "agent") != 0) {
        crm_die_msg("user add: role must be admin or agent");
        return CRM_EXIT_USAGE;
    }
    email = crm_email_normalise(email_arg);
    if (email == NULL) {
        crm_die_msg("user add: \"%s\" is not a mail address", email_arg);
        return CRM_EXIT_USAGE;
    }
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_free(email);
        return CRM_EXIT_FAILED;
    }
    ws = cli_load_workspace(st, wsname, &rc);
    if (ws != NULL) {
        int r = crm_store_user_add(st, ws, email, name, role, &id, err, sizeof err);
        if (r == CRM_STORE_EXISTS) {
            crm_die_msg("user add: %s is already a user of %s", email, wsname);
            rc = CRM_EXIT_FAILED;
        } else if (r < 0) {
            crm_die_msg("user add: %s", err);
            rc = CRM_EXIT_FAILED;
        } else {
            printf("%s\n", id);
        }
    }
    g_free(id);
    g_free(email);
    crm_workspace_free(ws);
    crm_store_close(st);
    return rc;
}
