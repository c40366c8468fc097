/*
 * NAME
 *	config 3h - crmgate.conf, environment overrides and --key flags
 * DESCRIPTION
 *	One table of keys (config.c) with types, defaults and a one-line
 *	description; doc/crmgate.conf.5 documents the same keys. Sources,
 *	lowest precedence first: built-in defaults, the file (-c FILE or
 *	$CRMGATE_CONFIG; "key = value" lines, '#' comments), the
 *	environment (CRMGATE_DATABASE_URL, CRMGATE_HOME), then --key value
 *	flags on the command line.
 *
 *	With no database_url at all, crmgate runs its embedded PostgreSQL
 *	under home (see pgcluster.h). home defaults to
 *	~/.local/share/crmgate, or /var/lib/crmgate for root (whose home
 *	directory the postgres user may not enter).
 * DIAGNOSTICS
 *	Functions return 0, or -1 with "FILE:LINE: reason" or
 *	"--key: reason" in err.
 */
#ifndef CRM_CONFIG_H
#define CRM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mail_message.h"

typedef struct crm_config {
    char *database_url;		/* NULL: embedded cluster */
    char *home;
    char *storage_dir;		/* attachments; default home/storage */
    char *pg_bindir;		/* initdb, pg_ctl */
    bool create_accounts;
    unsigned batch_size;	/* messages per transaction */
    crm_parse_limits limits;
    char *log_level;
    bool syslog;		/* log to syslog instead of stderr */
    /* crmgate serve */
    char *smtp_listen;		/* "host:port", or NULL for none */
    char *lmtp_listen;
    char *hostname;		/* greeting name; default: the host's */
    char *tls_cert;		/* PEM certificate (chain) for STARTTLS */
    char *tls_key;		/* PEM key; default: in tls_cert */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned max_recipients;
    unsigned smtp_timeout;	/* seconds of client silence */
    unsigned smtp_data_timeout;	/* seconds to send a whole message */
    unsigned shutdown_timeout;	/* seconds SIGTERM waits for sessions */
    /* the dropbox (dropbox_trust.h, committer.h) */
    char *trusted_authserv_ids;	/* comma-separated; NULL: none */
    unsigned dropbox_loop_limit;	/* mails per sender per window */
    unsigned dropbox_loop_window;	/* seconds */
    /* connected mailboxes and calendars (crmgate serve) */
    bool sync_sources;		/* run the IMAP/CalDAV pollers in serve */
    unsigned source_lease;	/* seconds a sync's lease lasts unrenewed */
    unsigned source_poll;	/* seconds between polls without IDLE */
    unsigned source_timeout;	/* seconds of server silence */
    unsigned source_backoff_max;	/* ceiling of the reconnect delay */
    /* embedding worker (crmgate embed, serve) and crmgate search */
    char *voyage_api_key_file;	/* else $VOYAGE_API_KEY */
    char *voyage_base_url;
    char *embedding_model;
    unsigned embedding_dimension;
    unsigned embed_batch_size;	/* jobs claimed at once */
    unsigned embed_lease;	/* seconds a claim holds its jobs */
    unsigned embed_max_attempts;	/* claims of a job before it fails */
    unsigned embed_max_retries;	/* retries of one request (429, 5xx, timeout) */
    unsigned embed_backoff_ms;	/* first retry delay */
    unsigned embed_timeout;	/* seconds per request */
    unsigned embed_poll;	/* seconds between looks at an empty queue */
    unsigned embed_workers;	/* worker threads */
    unsigned search_ef;		/* hnsw.ef_search of crmgate search */
    /* where it came from, so that SIGHUP can read it again */
    char *source_file;		/* -c or $CRMGATE_CONFIG, or NULL */
    char **source_flags;	/* --key value pairs: key, value, ..., NULL */
} crm_config;

/* The whole configuration from its sources: defaults, file (may be
 * NULL), environment, then flags (key, value, ..., NULL). */
int crm_config_build(crm_config *cfg, const char *file, char *const *flags,
                     char *err, size_t errlen);

void crm_config_init(crm_config *cfg);
int crm_config_load_file(crm_config *cfg, const char *path, char *err, size_t errlen);
void crm_config_apply_env(crm_config *cfg);
int crm_config_set(crm_config *cfg, const char *key, const char *value,
                   char *err, size_t errlen);
/* True when key names a configuration key (accepts '-' for '_'). */
bool crm_config_is_key(const char *key);
/* Fill what derives from other keys (home, storage_dir). */
void crm_config_finish(crm_config *cfg);
void crm_config_free(crm_config *cfg);

/* Print every key with its current value and description (secrets
 * masked) to stdout: "crmgate config". */
void crm_config_print(const crm_config *cfg);

#endif
