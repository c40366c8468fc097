/*
 * NAME
 *	config 3 - crmgate.conf, environment overrides and --key flags
 * DESCRIPTION
 *	See config.h. Every key is in keys[] once: the file parser, the
 *	--key flags and "crmgate config" all read that table.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "crmgate-build.h"

#include "config.h"
#include "log.h"

typedef enum { K_STRING, K_BOOL, K_UINT, K_SIZE } key_type;

typedef struct key_def {
    const char *name;
    key_type type;
    size_t offset;
    bool secret;
    const char *help;
} key_def;

#define OFF(f) offsetof(crm_config, f)

static const key_def keys[] = {
    { "database_url", K_STRING, OFF(database_url), true,
      "libpq conninfo or URI; unset: embedded cluster under home" },
    { "home", K_STRING, OFF(home), false,
      "crmgate's own directory (embedded database, storage)" },
    { "storage_dir", K_STRING, OFF(storage_dir), false,
      "where attachment bytes are written (default home/storage)" },
    { "pg_bindir", K_STRING, OFF(pg_bindir), false,
      "directory of initdb and pg_ctl for the embedded cluster" },
    { "create_accounts", K_BOOL, OFF(create_accounts), false,
      "create an account for a new corporate domain (true|false)" },
    { "batch_size", K_UINT, OFF(batch_size), false,
      "messages stored per transaction by crmgate ingest" },
    { "max_message_size", K_SIZE, OFF(limits.max_message_bytes), false,
      "largest message accepted, bytes" },
    { "max_headers", K_UINT, OFF(limits.max_headers), false,
      "most header fields in one header block" },
    { "max_mime_depth", K_UINT, OFF(limits.max_mime_depth), false,
      "deepest MIME nesting" },
    { "max_parts", K_UINT, OFF(limits.max_parts), false,
      "most MIME parts in one message" },
    { "max_text_size", K_SIZE, OFF(limits.max_text_bytes), false,
      "body text kept per message, bytes (longer is truncated)" },
    { "log_level", K_STRING, OFF(log_level), false,
      "debug, info, warning or error" },
    { "syslog", K_BOOL, OFF(syslog), false,
      "log to syslog (facility mail) instead of stderr (true|false)" },
    { "smtp_listen", K_STRING, OFF(smtp_listen), false,
      "host:port of the SMTP listener (empty: none)" },
    { "lmtp_listen", K_STRING, OFF(lmtp_listen), false,
      "host:port of the LMTP listener (empty: none)" },
    { "hostname", K_STRING, OFF(hostname), false,
      "name in the SMTP greeting (default: this host's name)" },
    { "tls_cert", K_STRING, OFF(tls_cert), false,
      "PEM certificate for STARTTLS (SMTP listener); unset: no STARTTLS" },
    { "tls_key", K_STRING, OFF(tls_key), false,
      "PEM private key for tls_cert (default: read from tls_cert)" },
    { "max_connections", K_UINT, OFF(max_connections), false,
      "simultaneous SMTP/LMTP sessions" },
    { "max_connections_per_ip", K_UINT, OFF(max_connections_per_ip), false,
      "simultaneous sessions from one client address" },
    { "max_recipients", K_UINT, OFF(max_recipients), false,
      "recipients accepted per message" },
    { "smtp_timeout", K_UINT, OFF(smtp_timeout), false,
      "seconds a client may stay silent, in commands or DATA" },
    { "smtp_data_timeout", K_UINT, OFF(smtp_data_timeout), false,
      "seconds a client may take to send one whole message (DATA)" },
    { "shutdown_timeout", K_UINT, OFF(shutdown_timeout), false,
      "seconds SIGTERM waits for sessions in progress" },
    { "trusted_authserv_ids", K_STRING, OFF(trusted_authserv_ids), false,
      "authserv-ids (comma-separated) whose Authentication-Results are believed" },
    { "dropbox_loop_limit", K_UINT, OFF(dropbox_loop_limit), false,
      "dropbox mails stored per sender and workspace within dropbox_loop_window" },
    { "dropbox_loop_window", K_UINT, OFF(dropbox_loop_window), false,
      "seconds of the dropbox loop breaker's window" },
    { "sync_sources", K_BOOL, OFF(sync_sources), false,
      "serve syncs the connected mailboxes (crmgate source add)" },
    { "source_lease", K_UINT, OFF(source_lease), false,
      "seconds before another gateway may take over a silent sync" },
    { "source_poll", K_UINT, OFF(source_poll), false,
      "seconds between checks for new mail when IDLE is not used" },
    { "source_timeout", K_UINT, OFF(source_timeout), false,
      "seconds a mail server may stay silent before the sync reconnects" },
    { "source_backoff_max", K_UINT, OFF(source_backoff_max), false,
      "longest wait, in seconds, between reconnection attempts" },
    { "voyage_api_key_file", K_STRING, OFF(voyage_api_key_file), false,
      "file holding the Voyage API key (else $VOYAGE_API_KEY)" },
    { "voyage_base_url", K_STRING, OFF(voyage_base_url), false,
      "Voyage API base URL; requests go to BASE/v1/embeddings" },
    { "embedding_model", K_STRING, OFF(embedding_model), false,
      "Voyage model of the embeddings" },
    { "embedding_dimension", K_UINT, OFF(embedding_dimension), false,
      "output_dimension; must match the schema's vector(N) columns" },
    { "embed_batch_size", K_UINT, OFF(embed_batch_size), false,
      "embedding jobs a worker claims at once" },
    { "embed_lease", K_UINT, OFF(embed_lease), false,
      "seconds a claim holds its jobs before another worker may take them" },
    { "embed_max_attempts", K_UINT, OFF(embed_max_attempts), false,
      "claims of one job before it is failed" },
    { "embed_max_retries", K_UINT, OFF(embed_max_retries), false,
      "retries of one Voyage request after 429, 5xx, timeouts, bad answers" },
    { "embed_backoff_ms", K_UINT, OFF(embed_backoff_ms), false,
      "first retry delay, doubled per retry, with jitter" },
    { "embed_timeout", K_UINT, OFF(embed_timeout), false,
      "seconds one Voyage request may take" },
    { "embed_poll", K_UINT, OFF(embed_poll), false,
      "seconds a worker waits before looking at an empty queue again" },
    { "embed_workers", K_UINT, OFF(embed_workers), false,
      "embedding worker threads of crmgate embed and crmgate serve" },
    { "search_ef", K_UINT, OFF(search_ef), false,
      "hnsw.ef_search of crmgate search (recall against speed)" },
};

void crm_config_init(crm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->create_accounts = true;
    cfg->batch_size = 500;
    cfg->pg_bindir = g_strdup(CRM_PG_BINDIR);
    cfg->log_level = g_strdup("info");
    cfg->smtp_listen = g_strdup("127.0.0.1:2525");
    cfg->max_connections = 500;
    cfg->max_connections_per_ip = 100;
    cfg->max_recipients = 100;
    cfg->smtp_timeout = 300;
    cfg->smtp_data_timeout = 1800;
    cfg->shutdown_timeout = 30;
    cfg->dropbox_loop_limit = 20;
    cfg->dropbox_loop_window = 7200;
    cfg->sync_sources = true;
    cfg->source_lease = 60;
    cfg->source_poll = 60;
    cfg->source_timeout = 60;
    cfg->source_backoff_max = 300;
    cfg->voyage_base_url = g_strdup("https://api.voyageai.com");
    cfg->embedding_model = g_strdup("voyage-3-large");
    cfg->embedding_dimension = 1024;
    cfg->embed_batch_size = 128;
    cfg->embed_lease = 300;
    cfg->embed_max_attempts = 5;
    cfg->embed_max_retries = 6;
    cfg->embed_backoff_ms = 500;
    cfg->embed_timeout = 60;
    cfg->embed_poll = 5;
    cfg->embed_workers = 1;
    cfg->search_ef = 100;
    crm_parse_limits_default(&cfg->limits);
}

static const key_def *find_key(const char *name)
{
    char *norm = g_strdup(name);

    g_strdelimit(norm, "-", '_');
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(keys[i].name, norm) == 0) {
            g_free(norm);
            return &keys[i];
        }
    }
    g_free(norm);
    return NULL;
}

bool crm_config_is_key(const char *key)
{
    return find_key(key) != NULL;
}

static int parse_unsigned(const char *value, unsigned long long max,
                          unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (value[0] == '-' || value[0] == '\0')
        return -1;
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno != 0 || end == value)
        return -1;
    /* sizes may carry a K/M/G suffix, as postconf's do not but users expect */
    if (*end == 'k' || *end == 'K') { v *= 1024ULL; end++; }
    else if (*end == 'm' || *end == 'M') { v *= 1024ULL * 1024; end++; }
    else if (*end == 'g' || *end == 'G') { v *= 1024ULL * 1024 * 1024; end++; }
    if (*end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

int crm_config_set(crm_config *cfg, const char *key, const char *value,
                   char *err, size_t errlen)
{
    const key_def *k = find_key(key);
    char *field;
    unsigned long long v;

    if (k == NULL)
        return crm_err_set(err, errlen, "unknown configuration key \"%s\"", key);
    field = (char *)cfg + k->offset;
    switch (k->type) {
    case K_STRING:
        g_free(*(char **)field);
        *(char **)field = *value ? g_strdup(value) : NULL;
        return 0;
    case K_BOOL:
        if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "on") == 0)
            *(bool *)field = true;
        else if (g_ascii_strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                 g_ascii_strcasecmp(value, "no") == 0 || g_ascii_strcasecmp(value, "off") == 0)
            *(bool *)field = false;
        else
            return crm_err_set(err, errlen, "%s: \"%s\" is not true or false", k->name, value);
        return 0;
    case K_UINT:
        if (parse_unsigned(value, UINT_MAX, &v) < 0 || v == 0)
            return crm_err_set(err, errlen, "%s: \"%s\" is not a positive number", k->name, value);
        *(unsigned *)field = (unsigned)v;
        return 0;
    case K_SIZE:
        if (parse_unsigned(value, SIZE_MAX, &v) < 0 || v == 0)
            return crm_err_set(err, errlen, "%s: \"%s\" is not a positive size", k->name, value);
        *(size_t *)field = (size_t)v;
        return 0;
    }
    return crm_err_set(err, errlen, "%s: bad key type", k->name);
}

int crm_config_load_file(crm_config *cfg, const char *path, char *err, size_t errlen)
{
    char *text = NULL, **lines;
    GError *gerr = NULL;
    int rc = 0;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        crm_err_set(err, errlen, "%s: %s", path, gerr->message);
        g_error_free(gerr);
        return -1;
    }
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i] != NULL && rc == 0; i++) {
        char *line = g_strstrip(lines[i]), *eq;
        char sub[512];

        if (*line == '\0' || *line == '#')
            continue;
        eq = strchr(line, '=');
        if (eq == NULL) {
            rc = crm_err_set(err, errlen, "%s:%d: expected \"key = value\"", path, i + 1);
            break;
        }
        *eq = '\0';
        if (crm_config_set(cfg, g_strstrip(line), g_strstrip(eq + 1), sub, sizeof sub) < 0)
            rc = crm_err_set(err, errlen, "%s:%d: %s", path, i + 1, sub);
    }
    g_strfreev(lines);
    g_free(text);
    return rc;
}

void crm_config_apply_env(crm_config *cfg)
{
    const char *v;

    if ((v = getenv("CRMGATE_DATABASE_URL")) != NULL && *v) {
        g_free(cfg->database_url);
        cfg->database_url = g_strdup(v);
    }
    if ((v = getenv("CRMGATE_HOME")) != NULL && *v) {
        g_free(cfg->home);
        cfg->home = g_strdup(v);
    }
}

void crm_config_finish(crm_config *cfg)
{
    if (cfg->home == NULL) {
        /* The embedded server runs as postgres when we are root, and
         * postgres cannot enter /root (mode 0700). */
        if (geteuid() == 0)
            cfg->home = g_strdup("/var/lib/crmgate");
        else
            cfg->home = g_build_filename(g_get_user_data_dir(), "crmgate", NULL);
    }
    if (cfg->storage_dir == NULL)
        cfg->storage_dir = g_build_filename(cfg->home, "storage", NULL);
}

int crm_config_build(crm_config *cfg, const char *file, char *const *flags,
                     char *err, size_t errlen)
{
    char sub[512];

    crm_config_init(cfg);
    cfg->source_file = g_strdup(file);
    cfg->source_flags = g_strdupv((char **)flags);
    if (file != NULL && crm_config_load_file(cfg, file, err, errlen) < 0)
        return -1;
    crm_config_apply_env(cfg);
    for (size_t k = 0; flags != NULL && flags[k] != NULL && flags[k + 1] != NULL; k += 2) {
        if (crm_config_set(cfg, flags[k], flags[k + 1], sub, sizeof sub) < 0)
            return crm_err_set(err, errlen, "--%s: %s", flags[k], sub);
    }
    crm_config_finish(cfg);
    return 0;
}

void crm_config_free(crm_config *cfg)
{
    g_free(cfg->source_file);
    g_strfreev(cfg->source_flags);
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (keys[i].type == K_STRING)
            g_free(*(char **)((char *)cfg + keys[i].offset));
    memset(cfg, 0, sizeof *cfg);
}

void crm_config_print(const crm_config *cfg)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *field = (const char *)cfg + keys[i].offset;
        const key_def *k = &keys[i];

        switch (k->type) {
        case K_STRING: {
            const char *s = *(char *const *)field;
            printf("%s = %s\n", k->name, s == NULL ? "" : k->secret ? "(set)" : s);
            break;
        }
        case K_BOOL:
            printf("%s = %s\n", k->name, *(const bool *)field ? "true" : "false");
            break;
        case K_UINT:
            printf("%s = %u\n", k->name, *(const unsigned *)field);
            break;
        case K_SIZE:
            printf("%s = %zu\n", k->name, *(const size_t *)field);
            break;
        }
    }
}
