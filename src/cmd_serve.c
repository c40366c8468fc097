/*
 * NAME
 *	cmd_serve 3 - "crmgate serve": the long-running gateway
 * DESCRIPTION
 *	Runs the SMTP/LMTP dropbox listener (smtp.h) over the group-commit
 *	thread (committer.h) until SIGTERM or SIGINT: then it stops
 *	accepting, lets sessions in progress finish (at most
 *	shutdown_timeout seconds) and exits 0. SIGHUP reads the configuration
 *	again: new sessions get the new limits. Connected mailboxes and
 *	calendars are synced here too (sources.h), and with a Voyage API key
 *	the embedding worker (embed.h) runs here; they stop with the listener.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "commands.h"
#include "committer.h"
#include "embed.h"
#include "log.h"
#include "smtp.h"
#include "sources.h"

static const char usage[] =
    "usage: crmgate serve [--check-config]\n"
    "Receive mail for the workspaces' dropbox addresses over SMTP\n"
    "(smtp_listen, default 127.0.0.1:2525) and LMTP (lmtp_listen), e.g.\n"
    "  crmgate --smtp-listen 0.0.0.0:25 --lmtp-listen 127.0.0.1:2424 serve\n"
    "It also syncs the connected mailboxes and calendars (crmgate source\n"
    "add), unless sync_sources is off. --check-config validates the\n"
    "configuration and exits.\n";

typedef struct daemon {
    GMainLoop *loop;
    crm_config *cfg;
    crm_smtp_server *srv;
    crm_committer *committer;
} daemon_t;

/* SIGHUP: read the configuration again from the same sources; apply
 * what can change without dropping a connection. */
static gboolean on_reload(gpointer data)
{
    daemon_t *d = data;
    crm_config fresh;
    char err[1024];

    if (crm_config_build(&fresh, d->cfg->source_file, d->cfg->source_flags, err, sizeof err) < 0 ||
        (d->srv != NULL && crm_smtp_server_reconfigure(d->srv, &fresh, err, sizeof err) < 0)) {
        crm_log(CRM_LOG_WARN, "serve: reload refused, keeping the running configuration: %s", err);
        crm_config_free(&fresh);
        return G_SOURCE_CONTINUE;
    }
    crm_committer_reconfigure(d->committer, &fresh);
    crm_log_init("crmgate", crm_log_level_parse(fresh.log_level));
    if (g_strcmp0(fresh.smtp_listen, d->cfg->smtp_listen) != 0 ||
        g_strcmp0(fresh.lmtp_listen, d->cfg->lmtp_listen) != 0)
        crm_log(CRM_LOG_WARN, "serve: listen addresses change only on restart");
    crm_log(CRM_LOG_INFO, "serve: configuration reloaded");
    crm_config_free(&fresh);
    return G_SOURCE_CONTINUE;
}

static gboolean on_stop(gpointer loop)
{
    crm_log(CRM_LOG_INFO, "serve: stopping: no new connections");
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static bool valid_listen(const char *what, const char *spec)
{
    GError *e = NULL;
    GSocketConnectable *a;

    if (spec == NULL)
        return true;
    a = g_network_address_parse(spec, 0, &e);
    if (a == NULL || g_network_address_get_port(G_NETWORK_ADDRESS(a)) == 0) {
        crm_die_msg("serve: %s \"%s\": %s", what, spec, e ? e->message : "needs host:port");
        g_clear_error(&e);
        g_clear_object(&a);
        return false;
    }
    g_object_unref(a);
    return true;
}

/* The embedding worker runs here when a Voyage key is configured; a
 * schema that cannot hold the vectors refuses the start. A database
 * that cannot be reached at start leaves the worker off (logged). */
static int start_embedding(const crm_config *cfg, crm_embed_worker **w)
{
    char err[1024], *key = NULL;
    bool cfg_error = false;

    if (crm_embed_api_key(cfg, &key, err, sizeof err) < 0) {
        crm_log(CRM_LOG_INFO, "serve: embedding worker off: %s", err);
        return 0;
    }
    g_free(key);
    *w = crm_embed_worker_start(cfg, false, &cfg_error, err, sizeof err);
    if (*w == NULL && cfg_error) {
        crm_die_msg("serve: %s", err);
        return -1;
    }
    if (*w == NULL) {
        /* the database is down: mail must still get its 4xx */
        crm_log(CRM_LOG_WARN, "serve: embedding worker off: %s", err);
        return 0;
    }
    crm_log(CRM_LOG_INFO, "serve: embedding worker on (%u threads, %s)", cfg->embed_workers,
            cfg->embedding_model ? cfg->embedding_model : "voyage-3-large");
    return 0;
}

int cmd_serve(crm_config *cfg, int argc, char **argv)
{
    bool check = false;
    char err[1024];
    crm_committer *committer;
    crm_smtp_server *srv = NULL;
    crm_sources *sources = NULL;
    GMainLoop *loop;
    crm_embed_worker *embed = NULL;
    unsigned left;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check-config") == 0)
            check = true;
        else
            return cli_usage(usage);
    }
    if (!valid_listen("smtp_listen", cfg->smtp_listen) ||
        !valid_listen("lmtp_listen", cfg->lmtp_listen))
        return CRM_EXIT_USAGE;
    if (cfg->smtp_listen == NULL && cfg->lmtp_listen == NULL && !cfg->sync_sources) {
        crm_die_msg("serve: neither smtp_listen nor lmtp_listen is set, and sync_sources is off");
        return CRM_EXIT_USAGE;
    }
    if (check) {
        printf("configuration ok\n");
        return CRM_EXIT_OK;
    }

    signal(SIGPIPE, SIG_IGN);	/* a client that hangs up is a write error, not a death */
    if (start_embedding(cfg, &embed) < 0)
        return CRM_EXIT_USAGE;
    committer = crm_committer_new(cfg);
    if (cfg->smtp_listen != NULL || cfg->lmtp_listen != NULL) {
        srv = crm_smtp_server_new(cfg, committer, err, sizeof err);
        if (srv == NULL) {
            crm_die_msg("serve: %s", err);
            crm_committer_free(committer);
            crm_embed_worker_stop(embed, NULL, err, sizeof err);
            return CRM_EXIT_FAILED;
        }
    }
    crm_log(CRM_LOG_INFO, "serve: listening: smtp %s, lmtp %s; mailbox sync %s",
            cfg->smtp_listen ? cfg->smtp_listen : "off", cfg->lmtp_listen ? cfg->lmtp_listen : "off",
            cfg->sync_sources ? "on" : "off");
    if (cfg->sync_sources)
        sources = crm_sources_start(cfg);
    loop = g_main_loop_new(NULL, FALSE);
    daemon_t d = { loop, cfg, srv, committer };
    g_unix_signal_add(SIGTERM, on_stop, loop);
    g_unix_signal_add(SIGINT, on_stop, loop);
    g_unix_signal_add(SIGHUP, on_reload, &d);
    g_main_loop_run(loop);

    left = srv != NULL ? crm_smtp_server_stop(srv, cfg->shutdown_timeout) : 0;
    if (left > 0)
        crm_log(CRM_LOG_WARN, "serve: %u sessions still open after %u s; closing", left,
                cfg->shutdown_timeout);
    crm_sources_stop(sources);
    crm_committer_free(committer);
    if (srv != NULL)
        crm_smtp_server_free(srv);
    crm_embed_worker_stop(embed, NULL, err, sizeof err);
    g_main_loop_unref(loop);
    crm_log(CRM_LOG_INFO, "serve: stopped");
    return CRM_EXIT_OK;
}
