/*
 * NAME
 *	sources 3 - run the syncs of connected mailboxes and calendars inside serve
 * DESCRIPTION
 *	See sources.h.
 */
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "caldav_sync.h"
#include "db.h"
#include "imap_sync.h"
#include "log.h"
#include "sources.h"
#include "store.h"

typedef struct sync_thread {
    crm_sources *owner;
    int64_t id;
    bool caldav;		/* kind "caldav", else "imap" */
    GThread *thread;
    volatile gint done;
} sync_thread;

struct crm_sources {
    const crm_config *cfg;
    char *holder;		/* this gateway, in leases: host:pid:random */
    volatile gint stop;
    GThread *scanner;
    GHashTable *running;	/* source id (gint64*) -> sync_thread* */
};

static gpointer run_sync(gpointer data)
{
    sync_thread *t = data;

    if (t->caldav)
        crm_caldav_sync_run(t->owner->cfg, t->id, t->owner->holder, &t->owner->stop);
    else
        crm_imap_sync_run(t->owner->cfg, t->id, t->owner->holder, &t->owner->stop);
    g_atomic_int_set(&t->done, 1);
    return NULL;
}

static void reap(crm_sources *s, bool all)
{
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, s->running);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        sync_thread *t = value;
        if (all || g_atomic_int_get(&t->done)) {
            g_thread_join(t->thread);
            g_free(t);
            g_hash_table_iter_remove(&it);
        }
    }
}

static void scan(crm_sources *s, crm_store **store)
{
    GPtrArray *list = NULL;
    char err[1024];

    if (*store == NULL) {
        PGconn *conn = crm_db_connect(s->cfg, 0, err, sizeof err);
        if (conn == NULL || (*store = crm_store_open(conn, err, sizeof err)) == NULL) {
            crm_log(CRM_LOG_WARN, "sources: %s", err);
            return;
        }
    }
    if (crm_store_source_list(*store, NULL, &list, err, sizeof err) < 0) {
        crm_log(CRM_LOG_WARN, "sources: %s", err);
        g_clear_pointer(store, crm_store_close);
        return;
    }
    for (guint i = 0; i < list->len; i++) {
        crm_source *src = g_ptr_array_index(list, i);
        sync_thread *t;

        if (g_hash_table_contains(s->running, &src->id))
            continue;
        if (strcmp(src->kind, "imap") != 0 && strcmp(src->kind, "caldav") != 0)
            continue;	/* a kind this gateway does not know (a newer one's) */
        /* someone else's live lease: no thread needed until it expires */
        if (src->lease_holder[0] != '\0' && strcmp(src->lease_holder, s->holder) != 0)
            continue;
        t = g_new0(sync_thread, 1);
        t->owner = s;
        t->id = src->id;
        t->caldav = strcmp(src->kind, "caldav") == 0;
        g_hash_table_insert(s->running, g_memdup2(&src->id, sizeof src->id), t);
        t->thread = g_thread_new(t->caldav ? "crmgate-caldav" : "crmgate-imap", run_sync, t);
    }
    g_ptr_array_unref(list);
}

static gpointer scanner(gpointer data)
{
    crm_sources *s = data;
    crm_store *store = NULL;

    while (!g_atomic_int_get(&s->stop)) {
        reap(s, false);
        scan(s, &store);
        for (int i = 0; i < CRM_SOURCES_SCAN_S * 5 && !g_atomic_int_get(&s->stop); i++)
            g_usleep(200 * 1000);
    }
    reap(s, true);
    if (store != NULL)
        crm_store_close(store);
    return NULL;
}

crm_sources *crm_sources_start(const crm_config *cfg)
{
    crm_sources *s = g_new0(crm_sources, 1);

    s->cfg = cfg;
    s->holder = g_strdup_printf("%s:%d:%08x", g_get_host_name(), (int)getpid(),
                                g_random_int());
    s->running = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    s->scanner = g_thread_new("crmgate-sources", scanner, s);
    return s;
}

void crm_sources_stop(crm_sources *s)
{
    if (s == NULL)
        return;
    g_atomic_int_set(&s->stop, 1);
    g_thread_join(s->scanner);
    g_hash_table_destroy(s->running);
    g_free(s->holder);
    g_free(s);
}
