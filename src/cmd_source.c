/*
 * NAME
 *	cmd_source 3 - "crmgate source add|list|remove": connected mailboxes
 *	and calendars
 * DESCRIPTION
 *	Records what to sync; "crmgate serve" does the syncing (imap_sync.h,
 *	caldav_sync.h).
 *	A password or token is never stored: the source keeps the path of
 *	the file holding it, read at each connection.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <jansson.h>

#include "caldav_sync.h"
#include "commands.h"
#include "imap_sync.h"
#include "json_util.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate source add imap --workspace NAME --host H [--port P]\n"
    "                         [--tls|--starttls|--plain-insecure] --user U\n"
    "                         (--password-file F | --oauth2-token-file F)\n"
    "                         [--folders INBOX,Sent] [--since YYYY-MM-DD]\n"
    "                         [--ca-file PEM] [--owner EMAIL] [--contacts POLICY]\n"
    "       crmgate source add caldav --workspace NAME --url URL --user U\n"
    "                         --password-file F [--calendars NAME,NAME]\n"
    "                         [--ca-file PEM] [--owner EMAIL] [--contacts POLICY]\n"
    "       crmgate source list\n"
    "       crmgate source remove ID\n"
    "A connected mailbox is synced by \"crmgate serve\". The password or\n"
    "OAuth2 token stays in its file (only the path is stored), read at each\n"
    "connection. TLS certificates are verified against the system's trust\n"
    "store, or --ca-file. The first sync takes mail since --since (default:\n"
    "90 days ago). The mailbox's owner (--owner, default --user when it is\n"
    "an address) becomes a user of the workspace if not one already.\n"
    "A CalDAV account's calendars (all of them, or those --calendars names by\n"
    "display name or URL segment) are found from --url (server, principal or\n"
    "calendar) and synced as meetings.\n"
    "--contacts says who becomes a new contact: sent_and_received (the\n"
    "default: everyone the mail or meetings name), sent (only people a user\n"
    "wrote to or invited) or none; existing contacts are always linked.\n";

/* An absolute path to a readable file, or NULL after saying why. */
static char *readable_file(const char *what, const char *path)
{
    char *abs;

    if (access(path, R_OK) != 0) {
        crm_die_msg("source add: %s %s: %s", what, path, g_strerror(errno));
        return NULL;
    }
    abs = g_canonicalize_filename(path, NULL);
    return abs;
}

static bool parse_day(const char *s, int64_t *out)
{
    GDateTime *dt;
    int y, m, d;
    char tail;

    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    dt = g_date_time_new_utc(y, m, d, 0, 0, 0);
    if (dt == NULL)
        return false;
    *out = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return true;
}

/* The owner must be a user, so that the mailbox's own mail is internal. */
static int ensure_owner(crm_store *st, const char *workspace, const char *owner)
{
    crm_workspace *ws;
    char err[1024], *id = NULL;
    int rc, r;

    ws = cli_load_workspace(st, workspace, &rc);
    if (ws == NULL)
        return rc;
    if (crm_workspace_user(ws, owner) != NULL) {
        crm_workspace_free(ws);
        return CRM_EXIT_OK;
    }
    r = crm_store_user_add(st, ws, owner, NULL, "agent", &id, err, sizeof err);
    crm_workspace_free(ws);
    g_free(id);
    if (r < 0) {
        crm_die_msg("source add: %s", err);
        return CRM_EXIT_FAILED;
    }
    if (r == 0)
        fprintf(stderr, "source add: %s added as a user of %s (the mailbox's owner)\n", owner,
                workspace);
    return CRM_EXIT_OK;
}

/* --contacts NAME into *out, or false after saying why. */
static bool contacts_option(const char *name, crm_contact_policy *out)
{
    if (crm_contact_policy_parse(name, out))
        return true;
    crm_die_msg("source add: --contacts %s: not none, sent or sent_and_received", name);
    return false;
}

/* Store the source and print its id; the command's exit status. */
static int record_source(crm_store *st, const char *workspace, const char *kind,
                         const char *settings_json, crm_contact_policy contacts)
{
    char err[1024];
    int64_t id = 0;
    json_t *o = json_loads(settings_json, 0, NULL);
    char *json;
    int c;

    json_object_set_new(o, "contacts", json_string(crm_contact_policy_name(contacts)));
    json = crm_json_dump(o);
    json_decref(o);
    c = crm_store_source_add(st, workspace, kind, json, &id, err, sizeof err);
    g_free(json);

    if (c != 0) {
        crm_die_msg("source add: %s", err);
        return c == CRM_STORE_NOT_FOUND ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
    }
    printf("%" G_GINT64_FORMAT "\n", id);
    return CRM_EXIT_OK;
}

static int add_imap(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "tls", no_argument, NULL, 'T' },
        { "starttls", no_argument, NULL, 'S' },
        { "plain-insecure", no_argument, NULL, 'P' },
        { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'f' },
        { "oauth2-token-file", required_argument, NULL, 'o' },
        { "folders", required_argument, NULL, 'F' },
        { "since", required_argument, NULL, 's' },
        { "ca-file", required_argument, NULL, 'c' },
        { "owner", required_argument, NULL, 'O' },
        { "contacts", required_argument, NULL, 'K' },
        { NULL, 0, NULL, 0 }
    };
    crm_imap_settings set = { .security = CRM_IMAP_TLS };
    const char *workspace = NULL, *password = NULL, *token = NULL, *folders = "INBOX";
    const char *since = NULL, *ca = NULL, *owner = NULL;
    int modes = 0, c, rc = CRM_EXIT_USAGE;
    crm_contact_policy contacts = CRM_CONTACTS_SENT_AND_RECEIVED;
    char *json = NULL;
    crm_store *st = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'w': workspace = optarg; break;
        case 'h': set.host = g_strdup(optarg); break;
        case 'p': {
            char *end;
            unsigned long p = strtoul(optarg, &end, 10);
            if (*end != '\0' || p == 0 || p > 65535) {
                crm_die_msg("source add: --port %s is not a port", optarg);
                goto out;
            }
            set.port = (unsigned)p;
            break;
        }
        case 'T': set.security = CRM_IMAP_TLS; modes++; break;
        case 'S': set.security = CRM_IMAP_STARTTLS; modes++; break;
        case 'P': set.security = CRM_IMAP_PLAIN; modes++; break;
        case 'u': set.user = g_strdup(optarg); break;
        case 'f': password = optarg; break;
        case 'o': token = optarg; break;
        case 'F': folders = optarg; break;
        case 's': since = optarg; break;
        case 'c': ca = optarg; break;
        case 'O': owner = optarg; break;
        case 'K': if (!contacts_option(optarg, &contacts)) goto out; break;
        default: goto out;
        }
    }
    if (workspace == NULL || set.host == NULL || set.user == NULL || optind != argc ||
        modes > 1 || (password == NULL) == (token == NULL)) {
        cli_usage(usage);
        goto out;
    }
    set.xoauth2 = token != NULL;
    if ((set.secret_file = readable_file("secret file", token ? token : password)) == NULL ||
        (ca != NULL && (set.ca_file = readable_file("--ca-file", ca)) == NULL))
        goto out;
    set.folders = g_strsplit(folders, ",", -1);
    for (char **f = set.folders; *f != NULL; f++)
        g_strstrip(*f);
    if (since != NULL) {
        if (!parse_day(since, &set.since)) {
            crm_die_msg("source add: --since %s is not a YYYY-MM-DD date", since);
            goto out;
        }
    } else {
        set.since = (int64_t)time(NULL) - 90 * 86400;
    }
    if (owner == NULL && strchr(set.user, '@') != NULL)
        owner = set.user;
    if (owner != NULL && (set.owner = crm_email_normalise(owner)) == NULL) {
        crm_die_msg("source add: --owner \"%s\" is not a mail address", owner);
        goto out;
    }
    rc = CRM_EXIT_FAILED;
    st = cli_open_store(cfg);
    if (st == NULL)
        goto out;
    if (set.owner != NULL && (rc = ensure_owner(st, workspace, set.owner)) != CRM_EXIT_OK)
        goto out;
    json = crm_imap_settings_json(&set);
    rc = record_source(st, workspace, "imap", json, contacts);
out:
    g_free(json);
    crm_imap_settings_clear(&set);
    if (st != NULL)
        crm_store_close(st);
    return rc;
}

static int add_caldav(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { "url", required_argument, NULL, 'U' },
        { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'f' },
        { "calendars", required_argument, NULL, 'C' },
        { "ca-file", required_argument, NULL, 'c' },
        { "owner", required_argument, NULL, 'O' },
        { "contacts", required_argument, NULL, 'K' },
        { NULL, 0, NULL, 0 }
    };
    crm_caldav_settings set = { 0 };
    const char *workspace = NULL, *password = NULL, *calendars = NULL, *ca = NULL;
    int c, rc = CRM_EXIT_USAGE;
    crm_contact_policy contacts = CRM_CONTACTS_SENT_AND_RECEIVED;
    char *json = NULL;
    crm_store *st = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'w': workspace = optarg; break;
        case 'U': g_free(set.url); set.url = g_strdup(optarg); break;
        case 'u': g_free(set.user); set.user = g_strdup(optarg); break;
        case 'f': password = optarg; break;
        case 'C': calendars = optarg; break;
        case 'c': ca = optarg; break;
        case 'O':	/* whose calendars they are (meeting.h) */
            g_free(set.owner);
            if ((set.owner = crm_email_normalise(optarg)) == NULL) {
                crm_die_msg("source add: --owner \"%s\" is not a mail address", optarg);
                goto out;
            }
            break;
        case 'K': if (!contacts_option(optarg, &contacts)) goto out; break;
        default: goto out;
        }
    }
    if (workspace == NULL || set.url == NULL || set.user == NULL || password == NULL ||
        optind != argc) {
        cli_usage(usage);
        goto out;
    }
    if (g_ascii_strncasecmp(set.url, "http://", 7) != 0 &&
        g_ascii_strncasecmp(set.url, "https://", 8) != 0) {
        crm_die_msg("source add: --url %s is not an http:// or https:// URL", set.url);
        goto out;
    }
    /* credentials in the URL would be stored: they belong in the file
     * (an '@' in the path, as in /calendars/alice@example.com/, is fine) */
    {
        GUri *u = g_uri_parse(set.url, G_URI_FLAGS_ENCODED, NULL);
        bool creds = u == NULL || g_uri_get_userinfo(u) != NULL;
        if (u != NULL)
            g_uri_unref(u);
        if (creds) {
            crm_die_msg("source add: --url %s",
                        u == NULL ? "is not a URL"
                                  : "must not hold credentials; use --user and --password-file");
            goto out;
        }
    }
    if ((set.secret_file = readable_file("password file", password)) == NULL ||
        (ca != NULL && (set.ca_file = readable_file("--ca-file", ca)) == NULL))
        goto out;
    {
        GPtrArray *names = g_ptr_array_new();
        char **parts = g_strsplit(calendars != NULL ? calendars : "", ",", -1);
        for (char **p = parts; *p != NULL; p++) {
            g_strstrip(*p);
            if (**p != '\0')
                g_ptr_array_add(names, g_strdup(*p));
        }
        g_strfreev(parts);
        g_ptr_array_add(names, NULL);
        set.calendars = (char **)g_ptr_array_free(names, FALSE);
    }
    rc = CRM_EXIT_FAILED;
    st = cli_open_store(cfg);
    if (st == NULL)
        goto out;
    json = crm_caldav_settings_json(&set);
    rc = record_source(st, workspace, "caldav", json, contacts);
out:
    g_free(json);
    crm_caldav_settings_clear(&set);
    if (st != NULL)
        crm_store_close(st);
    return rc;
}

/* "user at URL" and calendars, from the settings, for the listing. */
static char *describe_caldav(const crm_source *s)
{
    crm_caldav_settings set;
    char err[256], *cals, *out;

    if (crm_caldav_settings_parse(s->settings, &set, err, sizeof err) < 0)
        return g_strdup(s->kind);
    cals = set.calendars[0] != NULL ? g_strjoinv(",", set.calendars) : g_strdup("all calendars");
    out = g_strdup_printf("%s at %s (%s)", set.user, set.url, cals);
    g_free(cals);
    crm_caldav_settings_clear(&set);
    return out;
}

/* "user@host" and folders, from the settings, for the listing. */
static char *describe(const crm_source *s)
{
    crm_imap_settings set;
    char err[256], *folders, *out;

    if (strcmp(s->kind, "caldav") == 0)
        return describe_caldav(s);
    if (strcmp(s->kind, "imap") != 0 || crm_imap_settings_parse(s->settings, &set, err, sizeof err) < 0)
        return g_strdup(s->kind);
    folders = g_strjoinv(",", set.folders);
    out = g_strdup_printf("%s@%s (%s)", set.user, set.host, folders);
    g_free(folders);
    crm_imap_settings_clear(&set);
    return out;
}

static int list_sources(crm_config *cfg)
{
    crm_store *st = cli_open_store(cfg);
    GPtrArray *list = NULL;
    char err[1024];

    if (st == NULL)
        return CRM_EXIT_FAILED;
    if (crm_store_source_list(st, NULL, &list, err, sizeof err) < 0) {
        crm_die_msg("source list: %s", err);
        crm_store_close(st);
        return CRM_EXIT_FAILED;
    }
    printf("%-4s %-14s %-6s %-7s %-19s %7s %5s %7s %6s  %s\n", "id", "workspace", "kind",
           "state", "last-sync", "stored", "dups", "skipped", "failed", "source");
    for (guint i = 0; i < list->len; i++) {
        crm_source *s = g_ptr_array_index(list, i);
        char *what = describe(s);
        printf("%-4" G_GINT64_FORMAT " %-14s %-6s %-7s %-19s %7ld %5ld %7ld %6ld  %s\n", s->id,
               s->workspace, s->kind, s->state, *s->last_sync_at ? s->last_sync_at : "never",
               s->stored, s->duplicates, s->skipped, s->failed, what);
        if (*s->lease_holder)
            printf("     synced by %s (lease until %s)\n", s->lease_holder, s->lease_until);
        if (*s->last_error)
            printf("     last error at %s: %s\n", s->last_error_at, s->last_error);
        g_free(what);
    }
    g_ptr_array_unref(list);
    crm_store_close(st);
    return CRM_EXIT_OK;
}

static int remove_source(crm_config *cfg, const char *arg)
{
    char *end, err[1024];
    gint64 id = g_ascii_strtoll(arg, &end, 10);
    crm_store *st;
    int r;

    if (*arg == '\0' || *end != '\0' || id <= 0)
        return cli_usage(usage);
    st = cli_open_store(cfg);
    if (st == NULL)
        return CRM_EXIT_FAILED;
    r = crm_store_source_remove(st, id, err, sizeof err);
    crm_store_close(st);
    if (r != 0) {
        crm_die_msg("source remove: %s", err);
        return CRM_EXIT_FAILED;
    }
    return CRM_EXIT_OK;
}

int cmd_source(crm_config *cfg, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (argc >= 3 && strcmp(argv[1], "add") == 0 && strcmp(argv[2], "imap") == 0)
        return add_imap(cfg, argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "add") == 0 && strcmp(argv[2], "caldav") == 0)
        return add_caldav(cfg, argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return list_sources(cfg);
    if (argc == 3 && strcmp(argv[1], "remove") == 0)
        return remove_source(cfg, argv[2]);
    return cli_usage(usage);
}
