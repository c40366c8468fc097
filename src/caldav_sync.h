/*
 * NAME
 *	caldav_sync 3h - keep one CalDAV account's calendars in step with the CRM
 * DESCRIPTION
 *	A source of kind "caldav" names a server (any URL discovery starts
 *	from: server, principal or calendar), a user, the file holding the
 *	password, and optionally the calendars to follow (display names or
 *	last URL segments; none: every calendar of events found).
 *
 *	crm_caldav_sync_run() holds the source's lease in PostgreSQL (only
 *	one gateway syncs a source), discovers the calendars (caldav.h) and,
 *	every source_poll seconds, brings each one up to date:
 *	- its cursor in source_cursors (folder = the calendar's URL) holds
 *	  {"sync_token": T}; a sync-collection REPORT from T gives the
 *	  changed and removed resources. A token the server forgot means a
 *	  sync from nothing: the dedup keys and revisions of meetings make
 *	  that store nothing twice. A calendar whose token has not moved
 *	  since the discovery is not asked at all.
 *	- a server without sync-collection: the cursor holds {"ctag": C,
 *	  "etags": {href: etag}}; an unchanged getctag means nothing changed,
 *	  else the etags are compared.
 *	Recurring events are expanded within a window (90 days back, 30
 *	ahead, as for .ics files); once that window has moved a day past the
 *	cursor's window_end, every resource of the calendar is read again so
 *	that series gain their new occurrences (the rest are duplicates).
 *	Changed resources are read with calendar-multiget and go through the
 *	pipeline's calendar path (pipeline.h: meetings matched to contacts,
 *	accounts and users as mail is; a new version replaces the stored
 *	one); the cursor advances in the transaction of the last batch
 *	(crm_pipeline_flush_at), so a crash re-reads, never skips.
 *
 *	Meetings are never deleted: those of a removed resource, and the
 *	occurrences an edit no longer holds (EXDATE, a shorter series) within
 *	the expansion window, are marked cancelled (caldav_deleted) in their
 *	metadata (crm_store_caldav_forget); the meeting coming back replaces
 *	the mark.
 *
 *	Errors (network, HTTP status, a wrong password, the database away)
 *	are shown on the source (crmgate source list: state error,
 *	last_error) and retried after an exponential backoff with jitter, up
 *	to source_backoff_max seconds. A resource that cannot be read is
 *	recorded in source_failures with its URL and reason, and the sync
 *	goes past it. The password is read from its file at each connection
 *	and never logged or stored.
 */
#ifndef CRM_CALDAV_SYNC_H
#define CRM_CALDAV_SYNC_H

#include <stdint.h>
#include <stddef.h>
#include <glib.h>

#include "config.h"

/* What "crmgate source add caldav" records (sources.settings, JSON). */
typedef struct crm_caldav_settings {
    char *url;			/* where discovery starts */
    char *user;
    char *secret_file;		/* the password: read at connect */
    char **calendars;		/* NULL-terminated; empty: all calendars */
    char *ca_file;		/* NULL: system trust store */
    char *owner;		/* whose calendars: --owner, else user when an
				 * address; NULL: nobody's (see meeting.h) */
} crm_caldav_settings;

int crm_caldav_settings_parse(const char *json, crm_caldav_settings *s, char *err,
                              size_t errlen);
/* g_free() the result. */
char *crm_caldav_settings_json(const crm_caldav_settings *s);
void crm_caldav_settings_clear(crm_caldav_settings *s);

/* Sync the source until *stop becomes non-zero, the source is removed,
 * or another gateway holds its lease. holder names this gateway in the
 * lease. Blocks: run it on a thread of its own. */
void crm_caldav_sync_run(const crm_config *cfg, int64_t source_id, const char *holder,
                         volatile gint *stop);

#endif
