/*
 * NAME
 *	commands 3h - the crmgate subcommands
 * DESCRIPTION
 *	One file per command (cmd_*.c). Each gets the finished configuration
 *	and its own argv (argv[0] is the command's name), prints its own
 *	output and errors, and returns the process exit status:
 *	0 success, 1 some work failed (the rest was done), 2 usage or
 *	configuration error. cli.c holds what they share.
 */
#ifndef CRM_COMMANDS_H
#define CRM_COMMANDS_H

#include <stdbool.h>

#include "config.h"
#include "store.h"

#define CRM_EXIT_OK	0
#define CRM_EXIT_FAILED	1
#define CRM_EXIT_USAGE	2

int cmd_migrate(crm_config *cfg, int argc, char **argv);
int cmd_workspace(crm_config *cfg, int argc, char **argv);
int cmd_user(crm_config *cfg, int argc, char **argv);
int cmd_ingest(crm_config *cfg, int argc, char **argv);
int cmd_db(crm_config *cfg, int argc, char **argv);
int cmd_status(crm_config *cfg, int argc, char **argv);
int cmd_serve(crm_config *cfg, int argc, char **argv);
int cmd_source(crm_config *cfg, int argc, char **argv);
int cmd_embed(crm_config *cfg, int argc, char **argv);
int cmd_search(crm_config *cfg, int argc, char **argv);
int cmd_blocklist(crm_config *cfg, int argc, char **argv);
int cmd_freemail(crm_config *cfg, int argc, char **argv);
int cmd_account(crm_config *cfg, int argc, char **argv);

/* cli.c */
/* Open the database and the store, printing why not; NULL on failure. */
crm_store *cli_open_store(const crm_config *cfg);
/* True when argv has -h/--help; prints usage then. */
bool cli_wants_help(int argc, char **argv, const char *usage);
/* Print "usage: ..." to stderr and return CRM_EXIT_USAGE. */
int cli_usage(const char *usage);
/* Load a workspace by name, printing why not. Exit status in *status. */
crm_workspace *cli_load_workspace(crm_store *st, const char *name, int *status);

/* "SUB --workspace NAME [ARG]": argv[1] one of subs (NULL-ended; *sub
 * points at the entry); bit i of want_arg set when subs[i] takes the one
 * argument. False when argv does not read so. */
bool cli_workspace_subcommand(int argc, char **argv, const char *const *subs, int want_arg,
                              const char **sub, const char **workspace, const char **arg);

/* The frame of a command keeping a list of rules for a workspace
 * (blocklist, freemail): "SUB --workspace NAME [ARG]" parsed as
 * cli_workspace_subcommand() does, ARG normalised (NULL: refused as
 * "ARG bad_arg", exit 2), the store opened, apply() called, the lines
 * it returns printed. apply() returns an exit status and, unless 0,
 * fills err. */
typedef int (*cli_rule_fn)(crm_store *st, const char *sub, const char *workspace,
                           const char *arg, GPtrArray **lines, char *err, size_t errlen);
int cli_rule_command(crm_config *cfg, int argc, char **argv, const char *name,
                     const char *usage, const char *const *subs, int want_arg,
                     char *(*normalise)(const char *arg), const char *bad_arg,
                     cli_rule_fn apply);
/* The exit status for a store result: 0, 2 for an unknown workspace
 * (err set by the store), 1 otherwise. */
int cli_store_status(int rc, const char *err);

/* Every workspace with its counts (GPtrArray of crm_workspace_summary),
 * or NULL after printing why not. */
GPtrArray *cli_workspace_summaries(const crm_config *cfg, const char *command);

#endif
