/*
 * NAME
 *	cmd_workspace 3 - "crmgate workspace add|list|add-domain|add-address|set"
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate workspace add NAME [--domain DOMAIN]...\n"
    "       crmgate workspace add-domain NAME DOMAIN\n"
    "       crmgate workspace add-address NAME ADDRESS\n"
    "       crmgate workspace list\n"
    "       crmgate workspace set NAME --dropbox-senders users|anyone\n"
    "A workspace is one tenant of the CRM. Its domains are its own mail\n"
    "domains: their addresses are colleagues, never contacts. Its addresses\n"
    "are BCC-to-CRM dropboxes: mail sent to one is logged into it, when\n"
    "its envelope sender or From is a user of the workspace (dropbox\n"
    "senders \"users\", the default) or from any sender (\"anyone\").\n";

static bool valid_domain(const char *d)
{
    char *probe = g_strconcat("x@", d, NULL);
    char *n = crm_email_normalise(probe);
    bool ok = n != NULL && strchr(d, '.') != NULL;

    g_free(n);
    g_free(probe);
    return ok;
}

static int workspace_add(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "domain", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 }
    };
    GPtrArray *domains = g_ptr_array_new_with_free_func(g_free);
    char err[1024], *id = NULL;
    crm_store *st;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
        if (c != 'd' || !valid_domain(optarg)) {
            if (c == 'd')
                crm_die_msg("workspace add: \"%s\" is not a mail domain", optarg);
            g_ptr_array_unref(domains);
            return cli_usage(usage);
        }
        g_ptr_array_add(domains, g_ascii_strdown(optarg, -1));
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        g_ptr_array_unref(domains);
        return cli_usage(usage);
    }
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_ptr_array_unref(domains);
        return CRM_EXIT_FAILED;
    }
    rc = crm_store_workspace_add(st, argv[optind], (char *const *)domains->pdata,
                                 domains->len, &id, err, sizeof err);
    if (rc == CRM_STORE_EXISTS) {
        crm_die_msg("workspace add: a workspace named \"%s\" already exists", argv[optind]);
        rc = CRM_EXIT_FAILED;
    } else if (rc < 0) {
        crm_die_msg("workspace add: %s", err);
        rc = CRM_EXIT_FAILED;
    } else {
        printf("%s\n", id);
        rc = CRM_EXIT_OK;
    }
    g_free(id);
    g_ptr_array_unref(domains);
    crm_store_close(st);
    return rc;
}

static int workspace_add_domain(crm_config *cfg, int argc, char **argv)
{
    char err[1024];
    crm_store *st;
    int rc;

    if (argc != 3 || !valid_domain(argv[2]))
        return cli_usage(usage);
    st = cli_open_store(cfg);
    if (st == NULL)
        return CRM_EXIT_FAILED;
    rc = crm_store_workspace_add_domain(st, argv[1], argv[2], err, sizeof err);
    if (rc != 0)
        crm_die_msg("workspace add-domain: %s", err);
    crm_store_close(st);
    return rc == 0 ? CRM_EXIT_OK : rc == CRM_STORE_NOT_FOUND ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
}

static int workspace_add_address(crm_config *cfg, int argc, char **argv)
{
    char err[1024], *address;
    crm_store *st;
    int rc;

    if (argc != 3)
        return cli_usage(usage);
    address = crm_email_normalise(argv[2]);
    if (address == NULL) {
        crm_die_msg("workspace add-address: \"%s\" is not a mail address", argv[2]);
        return CRM_EXIT_USAGE;
    }
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_free(address);
        return CRM_EXIT_FAILED;
    }
    rc = crm_store_workspace_add_address(st, argv[1], address, err, sizeof err);
    if (rc == CRM_STORE_EXISTS)
        crm_die_msg("workspace add-address: %s already routes to a workspace", address);
    else if (rc != 0)
        crm_die_msg("workspace add-address: %s", err);
    g_free(address);
    crm_store_close(st);
    if (rc == 0)
        return CRM_EXIT_OK;
    /* an unknown workspace is the caller's mistake; a taken address too */
    return rc < 0 ? CRM_EXIT_FAILED : CRM_EXIT_USAGE;
}

static int workspace_list(crm_config *cfg, int argc, char **argv)
{
    GPtrArray *list;

    (void)argv;
    if (argc != 1)
        return cli_usage(usage);
    list = cli_workspace_summaries(cfg, "workspace list");
    if (list == NULL)
        return CRM_EXIT_FAILED;
    for (guint i = 0; i < list->len; i++) {
        crm_workspace_summary *s = g_ptr_array_index(list, i);
        printf("%s\t%s\tdomains=%s\n", s->name, s->id, s->domains);
    }
    g_ptr_array_unref(list);
    return CRM_EXIT_OK;
}

static int workspace_set(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "dropbox-senders", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    const char *senders = NULL;
    char err[1024];
    crm_store *st;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
        if (c != 's')
            return cli_usage(usage);
        if (strcmp(optarg, "users") != 0 && strcmp(optarg, "anyone") != 0) {
            crm_die_msg("workspace set: --dropbox-senders is users or anyone, not \"%s\"", optarg);
            return CRM_EXIT_USAGE;
        }
        senders = optarg;
    }
    if (optind != argc - 1 || senders == NULL)
        return cli_usage(usage);
    st = cli_open_store(cfg);
    if (st == NULL)
        return CRM_EXIT_FAILED;
    rc = crm_store_workspace_set_dropbox_senders(st, argv[optind], senders, err, sizeof err);
    if (rc != 0)
        crm_die_msg("workspace set: %s", err);
    crm_store_close(st);
    return rc == 0 ? CRM_EXIT_OK : rc == CRM_STORE_NOT_FOUND ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
}

int cmd_workspace(crm_config *cfg, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(usage);
    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (strcmp(argv[1], "add") == 0)
        return workspace_add(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "add-domain") == 0)
        return workspace_add_domain(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "add-address") == 0)
        return workspace_add_address(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return workspace_list(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "set") == 0)
        return workspace_set(cfg, argc - 1, argv + 1);
    crm_die_msg("workspace: unknown subcommand \"%s\"", argv[1]);
    return cli_usage(usage);
}
