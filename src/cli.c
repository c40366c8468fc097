/*
 * NAME
 *	cli 3 - what the subcommands share
 * DESCRIPTION
 *	See commands.h.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "log.h"

crm_store *cli_open_store(const crm_config *cfg)
{
    char err[2048];
    PGconn *conn = crm_db_connect(cfg, 0, err, sizeof err);
    crm_store *st;

    if (conn == NULL) {
        crm_die_msg("%s", err);
        return NULL;
    }
    st = crm_store_open(conn, err, sizeof err);
    if (st == NULL)
        crm_die_msg("%s", err);
    return st;
}

bool cli_wants_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return true;
        }
    }
    return false;
}

int cli_usage(const char *usage)
{
    fputs(usage, stderr);
    return CRM_EXIT_USAGE;
}

crm_workspace *cli_load_workspace(crm_store *st, const char *name, int *status)
{
    char err[1024];
    crm_workspace *ws = NULL;
    int rc = crm_store_workspace_load(st, name, &ws, err, sizeof err);

    if (rc != 0) {
        crm_die_msg("%s", err);
        *status = rc == CRM_STORE_NOT_FOUND ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
        return NULL;
    }
    *status = CRM_EXIT_OK;
    return ws;
}

GPtrArray *cli_workspace_summaries(const crm_config *cfg, const char *command)
{
    char err[1024];
    GPtrArray *list = NULL;
    crm_store *st = cli_open_store(cfg);

    if (st == NULL)
        return NULL;
    if (crm_store_workspace_list(st, &list, err, sizeof err) < 0)
        crm_die_msg("%s: %s", command, err);
    crm_store_close(st);
    return list;
}

bool cli_workspace_subcommand(int argc, char **argv, const char *const *subs, int want_arg,
                              const char **sub, const char **workspace, const char **arg)
{
    *sub = *workspace = *arg = NULL;
    if (argc < 2)
        return false;
    for (size_t i = 0; subs[i] != NULL && *sub == NULL; i++)
        if (strcmp(argv[1], subs[i]) == 0)
            *sub = subs[i];
    if (*sub == NULL)
        return false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--workspace") == 0 && i + 1 < argc && *workspace == NULL)
            *workspace = argv[++i];
        else if (strncmp(argv[i], "--workspace=", 12) == 0 && *workspace == NULL)
            *workspace = argv[i] + 12;
        else if (argv[i][0] != '-' && *arg == NULL)
            *arg = argv[i];
        else
            return false;
    }
    /* want_arg: the subcommands that take one argument (a bit per sub) */
    for (int i = 0; subs[i] != NULL; i++)
        if (*sub == subs[i] && ((want_arg >> i) & 1) != (*arg != NULL))
            return false;
    return *workspace != NULL && **workspace != '\0';
}

int cli_store_status(int rc, const char *err)
{
    if (rc == 0)
        return CRM_EXIT_OK;
    return rc == CRM_STORE_NOT_FOUND && strstr(err, "no workspace named") != NULL
         ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
}

int cli_rule_command(crm_config *cfg, int argc, char **argv, const char *name,
                     const char *usage, const char *const *subs, int want_arg,
                     char *(*normalise)(const char *arg), const char *bad_arg,
                     cli_rule_fn apply)
{
    const char *sub, *workspace, *arg;
    char err[1024], *norm = NULL;
    GPtrArray *lines = NULL;
    crm_store *st;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (!cli_workspace_subcommand(argc, argv, subs, want_arg, &sub, &workspace, &arg))
        return cli_usage(usage);
    if (arg != NULL && (norm = normalise(arg)) == NULL) {
        crm_die_msg("%s %s: \"%s\" %s", name, sub, arg, bad_arg);
        return CRM_EXIT_USAGE;
    }
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_free(norm);
        return CRM_EXIT_FAILED;
    }
    err[0] = '\0';
    rc = apply(st, sub, workspace, norm, &lines, err, sizeof err);
    crm_store_close(st);
    g_free(norm);
    if (rc != CRM_EXIT_OK)
        crm_die_msg("%s %s: %s", name, sub, err);
    for (guint i = 0; lines != NULL && i < lines->len; i++)
        printf("%s\n", (const char *)g_ptr_array_index(lines, i));
    if (lines != NULL)
        g_ptr_array_unref(lines);
    return rc;
}
