/*
 * NAME
 *	pgcluster 3 - crmgate's own private PostgreSQL cluster
 * DESCRIPTION
 *	See pgcluster.h. initdb and pg_ctl are run with g_spawn_sync, as the
 *	postgres user when we are root (a child_setup drops privileges
 *	before exec), never through a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>

#include "log.h"
#include "pgcluster.h"

#define SERVER_USER	"postgres"
#define START_TIMEOUT_S	"60"
/* sun_path is 108 bytes; the socket file name adds ".s.PGSQL.5432" */
#define MAX_SOCKDIR	90

typedef struct server_identity {
    bool drop;			/* we are root: run as SERVER_USER */
    uid_t uid;
    gid_t gid;
} server_identity;

static void drop_privileges(gpointer data)
{
    const server_identity *id = data;

    /* In the child between fork and exec: only async-signal-safe calls;
     * a failure exits the child, which the parent reports. */
    if (!id->drop)
        return;
    if (setgroups(0, NULL) != 0 || setgid(id->gid) != 0 || setuid(id->uid) != 0)
        _exit(127);
}

static int server_identity_get(server_identity *id, char *err, size_t errlen)
{
    struct passwd *pw;

    memset(id, 0, sizeof *id);
    if (geteuid() != 0)
        return 0;
    pw = getpwnam(SERVER_USER);
    if (pw == NULL)
        return crm_err_set(err, errlen, "running as root, the embedded database needs the "
                           "\"%s\" system user (Debian package postgresql-15)", SERVER_USER);
    id->drop = true;
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    return 0;
}

static char *last_lines(const char *text, int n)
{
    const char *p = text + strlen(text);
    int seen = 0;

    while (p > text) {
        p--;
        if (*p == '\n' && p[1] != '\0' && ++seen > n) {
            p++;
            break;
        }
    }
    return g_strstrip(g_strdup(p));
}

/* Run argv as the server user; 0 on exit status 0. Output goes to *out. */
static int run_tool(const server_identity *id, char **argv, char **out,
                    char *err, size_t errlen)
{
    GError *gerr = NULL;
    char *o = NULL, *e = NULL;
    int status = 0;
    /* the server user may not read our cwd: run from / */
    const char *envp_keep[] = { "PATH", "LANG", "LC_ALL", "TZ", NULL };
    GPtrArray *envp = g_ptr_array_new_with_free_func(g_free);

    for (int i = 0; envp_keep[i]; i++) {
        const char *v = g_getenv(envp_keep[i]);
        if (v != NULL)
            g_ptr_array_add(envp, g_strdup_printf("%s=%s", envp_keep[i], v));
    }
    g_ptr_array_add(envp, NULL);

    if (!g_spawn_sync("/", argv, (char **)envp->pdata, G_SPAWN_DEFAULT,
                      drop_privileges, (gpointer)id, &o, &e, &status, &gerr)) {
        crm_err_set(err, errlen, "cannot run %s: %s", argv[0], gerr->message);
        g_error_free(gerr);
        g_ptr_array_free(envp, TRUE);
        return -1;
    }
    g_ptr_array_free(envp, TRUE);
    if (out != NULL)
        *out = g_strconcat(o ? o : "", e ? e : "", NULL);
    if (!g_spawn_check_wait_status(status, NULL)) {
        char *all = g_strconcat(o ? o : "", e ? e : "", NULL);
        char *tail = last_lines(all, 4);
        crm_err_set(err, errlen, "%s failed: %s", argv[0], *tail ? tail : "(no output)");
        g_free(tail);
        g_free(all);
        g_free(o);
        g_free(e);
        return -1;
    }
    g_free(o);
    g_free(e);
    return 0;
}

static int make_dir(const char *path, mode_t mode, const server_identity *owner,
                    char *err, size_t errlen)
{
    if (g_mkdir_with_parents(path, 0700) != 0)
        return crm_err_set(err, errlen, "cannot create %s: %s", path, g_strerror(errno));
    if (chmod(path, mode) != 0)
        return crm_err_set(err, errlen, "cannot chmod %s: %s", path, g_strerror(errno));
    if (owner != NULL && owner->drop && chown(path, owner->uid, owner->gid) != 0)
        return crm_err_set(err, errlen, "cannot chown %s: %s", path, g_strerror(errno));
    return 0;
}

/* As root, the server user must be able to walk down to HOME/pg. */
static int check_traversable(const char *home, char *err, size_t errlen)
{
    char *dir = g_path_get_dirname(home);

    for (;;) {
        struct stat st;
        if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH)) {
            crm_err_set(err, errlen, "the embedded database runs as \"%s\", which cannot "
                        "enter %s (mode %04o): set CRMGATE_HOME (or home) to a directory "
                        "outside it, e.g. /var/lib/crmgate", SERVER_USER, dir,
                        (unsigned)(st.st_mode & 07777));
            g_free(dir);
            return -1;
        }
        if (strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
            break;
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
    g_free(dir);
    return 0;
}

char *crm_pgcluster_conninfo(const char *home, const char *dbname)
{
    char *sock = g_build_filename(home, "pg", "run", NULL);
    char *ci = g_strdup_printf("host=%s port=5432 dbname=%s user=%s", sock, dbname,
                               CRM_EMBEDDED_DBUSER);
    g_free(sock);
    return ci;
}

static int write_server_settings(const char *datadir, const char *sockdir,
                                 char *err, size_t errlen)
{
    char *conf = g_build_filename(datadir, "postgresql.conf", NULL);
    FILE *f = fopen(conf, "a");
    int rc = 0;

    if (f == NULL) {
        rc = crm_err_set(err, errlen, "cannot append to %s: %s", conf, g_strerror(errno));
    } else {
        /* Unix socket only, private directory; durable commits. The WAL
         * settings suit a single-node store that is backed up by dumps. */
        fprintf(f, "\n# written by crmgate\n"
                   "listen_addresses = ''\n"
                   "unix_socket_directories = '%s'\n"
                   "unix_socket_permissions = 0700\n"
                   "max_connections = 200\n"
                   "shared_buffers = 256MB\n"
                   "wal_level = minimal\n"
                   "max_wal_senders = 0\n"
                   "max_wal_size = 2GB\n"
                   "wal_compression = on\n"
                   "synchronous_commit = on\n"
                   "commit_delay = 200\n"
                   "log_min_messages = warning\n", sockdir);
        if (fclose(f) != 0)
            rc = crm_err_set(err, errlen, "cannot write %s: %s", conf, g_strerror(errno));
    }
    g_free(conf);
    return rc;
}

static int ensure_database(const char *home, char *err, size_t errlen)
{
    char *ci = crm_pgcluster_conninfo(home, "postgres");
    PGconn *c = PQconnectdb(ci);
    PGresult *r;
    int rc = 0;

    g_free(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        rc = crm_err_set(err, errlen, "embedded database: %s", PQerrorMessage(c));
        PQfinish(c);
        return rc;
    }
    r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" CRM_EMBEDDED_DBNAME "'");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0) {
        PQclear(r);
        r = PQexec(c, "CREATE DATABASE " CRM_EMBEDDED_DBNAME " ENCODING 'UTF8' TEMPLATE template0");
        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "", "42P04") != 0)
            rc = crm_err_set(err, errlen, "creating database: %s", PQerrorMessage(c));
    } else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = crm_err_set(err, errlen, "embedded database: %s", PQerrorMessage(c));
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

static bool server_running(const server_identity *id, const char *bindir, const char *datadir)
{
    char *pg_ctl = g_build_filename(bindir, "pg_ctl", NULL);
    char *argv[] = { pg_ctl, "status", "-D", (char *)datadir, NULL };
    char e[256];
    int rc = run_tool(id, argv, NULL, e, sizeof e);

    g_free(pg_ctl);
    return rc == 0;
}

int crm_pgcluster_ensure(const char *home, const char *bindir, char **conninfo,
                         char *err, size_t errlen)
{
    server_identity id;
    char *pgdir = g_build_filename(home, "pg", NULL);
    char *datadir = g_build_filename(pgdir, "data", NULL);
    char *sockdir = g_build_filename(pgdir, "run", NULL);
    char *logfile = g_build_filename(pgdir, "server.log", NULL);
    char *lockfile = g_build_filename(home, "pg.lock", NULL);
    char *version = g_build_filename(datadir, "PG_VERSION", NULL);
    int lockfd = -1, rc = -1;

    if (strlen(sockdir) > MAX_SOCKDIR) {
        crm_err_set(err, errlen, "home %s is too long for a Unix socket path", home);
        goto out;
    }
    if (server_identity_get(&id, err, errlen) < 0)
        goto out;
    if (make_dir(home, id.drop ? 0711 : 0700, NULL, err, errlen) < 0)
        goto out;
    if (id.drop && check_traversable(home, err, errlen) < 0)
        goto out;

    lockfd = open(lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        crm_err_set(err, errlen, "cannot lock %s: %s", lockfile, g_strerror(errno));
        goto out;
    }

    if (!g_file_test(version, G_FILE_TEST_EXISTS)) {
        char *initdb = g_build_filename(bindir, "initdb", NULL);
        char *argv[] = { initdb, "-D", datadir, "-U", CRM_EMBEDDED_DBUSER,
                         "--auth=trust", "-E", "UTF8", "--no-locale", NULL };
        int r;

        if (!g_file_test(initdb, G_FILE_TEST_IS_EXECUTABLE)) {
            crm_err_set(err, errlen, "%s not found: install the Debian package "
                        "postgresql-15, or set pg_bindir", initdb);
            g_free(initdb);
            goto out;
        }
        if (make_dir(pgdir, 0700, &id, err, errlen) < 0 ||
            make_dir(sockdir, 0700, &id, err, errlen) < 0) {
            g_free(initdb);
            goto out;
        }
        /* initdb wants an empty or absent data directory */
        r = run_tool(&id, argv, NULL, err, errlen);
        g_free(initdb);
        if (r < 0 || write_server_settings(datadir, sockdir, err, errlen) < 0)
            goto out;
    }

    if (!server_running(&id, bindir, datadir)) {
        char *pg_ctl = g_build_filename(bindir, "pg_ctl", NULL);
        char *argv[] = { pg_ctl, "start", "-D", datadir, "-l", logfile, "-w",
                         "-t", START_TIMEOUT_S, "-s", NULL };
        int r = run_tool(&id, argv, NULL, err, errlen);

        g_free(pg_ctl);
        if (r < 0) {
            char *log = NULL;
            if (g_file_get_contents(logfile, &log, NULL, NULL)) {
                char *tail = last_lines(log, 3);
                size_t used = strlen(err);
                snprintf(err + used, errlen - used, " (server log: %s)", tail);
                g_free(tail);
                g_free(log);
            }
            goto out;
        }
    }
    if (ensure_database(home, err, errlen) < 0)
        goto out;
    *conninfo = crm_pgcluster_conninfo(home, CRM_EMBEDDED_DBNAME);
    rc = 0;
out:
    if (lockfd >= 0)
        close(lockfd);
    g_free(pgdir);
    g_free(datadir);
    g_free(sockdir);
    g_free(logfile);
    g_free(lockfile);
    g_free(version);
    return rc;
}

int crm_pgcluster_stop(const char *home, const char *bindir, bool *was_running,
                       char *err, size_t errlen)
{
    server_identity id;
    char *datadir = g_build_filename(home, "pg", "data", NULL);
    char *pg_ctl = g_build_filename(bindir, "pg_ctl", NULL);
    char *argv[] = { pg_ctl, "stop", "-D", datadir, "-m", "fast", "-w", "-s", NULL };
    int rc = 0;

    *was_running = false;
    if (server_identity_get(&id, err, errlen) < 0) {
        rc = -1;
    } else if (g_file_test(datadir, G_FILE_TEST_IS_DIR) && server_running(&id, bindir, datadir)) {
        *was_running = true;
        rc = run_tool(&id, argv, NULL, err, errlen);
    }
    g_free(datadir);
    g_free(pg_ctl);
    return rc;
}
