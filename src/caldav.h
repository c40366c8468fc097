/*
 * NAME
 *	caldav 3h - a CalDAV client: find a user's calendars, read what changed
 * DESCRIPTION
 *	The network half of the CalDAV source. It speaks HTTP (libcurl) and
 *	WebDAV XML (libxml2) and hands back hrefs, etags, sync tokens and
 *	iCalendar bytes; it knows no database, so the source that drives it
 *	can move its cursor (sync token, etags) in the transaction that stores
 *	the meetings (ARCHITECTURE rule 1), and no iCalendar either (the
 *	bytes go to parsers/calendar_event.h).
 *
 *	Discovery, crm_caldav_discover(): a PROPFIND on the configured URL;
 *	when it names no current-user-principal (RFC 5397), the same on
 *	/.well-known/caldav of that host (RFC 6764 section 6); then the
 *	principal's calendar-home-set (RFC 4791 section 6.2.1); then a Depth 1
 *	PROPFIND of the home: every collection whose resourcetype is a
 *	calendar and whose supported-calendar-component-set (when given)
 *	includes VEVENT. A URL that is itself a calendar is that calendar.
 *
 *	Changes, crm_caldav_sync(): a sync-collection REPORT (RFC 6578,
 *	sync-level 1) from the last token (NULL: everything). Resources
 *	answered 404 were removed; the others changed (href and etag). A
 *	token the server has forgotten sets token_invalid: start again with
 *	NULL. A server without sync-collection gives CRM_CALDAV_UNSUPPORTED:
 *	fall back to crm_caldav_list() (the collection's getctag, unchanged
 *	means nothing changed, and every resource's getetag to compare) and
 *	fetch what differs with crm_caldav_multiget() (calendar-multiget,
 *	RFC 4791 section 7.9), which the sync path uses for bodies too.
 *
 *	hrefs of resources are kept as the server wrote them (multiget wants
 *	them back that way); calendar URLs are made absolute.
 * LIMITS
 *	crm_caldav_opts: seconds per request, bytes per response, resources
 *	per answer; redirects are followed at most 5 times, http and https
 *	only. XML is parsed without network access or entity expansion.
 * DIAGNOSTICS
 *	Functions return 0, CRM_CALDAV_UNSUPPORTED (sync only), or -1 with
 *	the reason in err (HTTP status and URL, or the transport error).
 * OWNERSHIP
 *	crm_caldav_free() frees a client; results are freed with the
 *	matching *_free()/clear function. A client is used by one thread at
 *	a time.
 */
#ifndef CRM_CALDAV_H
#define CRM_CALDAV_H

#include <stdbool.h>
#include <stddef.h>

#define CRM_CALDAV_UNSUPPORTED		1

#define CRM_CALDAV_DEFAULT_TIMEOUT_S	60
#define CRM_CALDAV_DEFAULT_MAX_RESPONSE	(64u * 1024 * 1024)
#define CRM_CALDAV_DEFAULT_MAX_RESOURCES	100000u
#define CRM_CALDAV_MULTIGET_BATCH	100	/* hrefs per calendar-multiget */

typedef struct crm_caldav_opts {
    const char *url;		/* server, principal or calendar URL */
    const char *user;		/* Basic/Digest user, or NULL */
    const char *password;
    const char *bearer;		/* OAuth2 bearer token instead, or NULL */
    const char *ca_file;	/* PEM CA bundle for https, or NULL: system store */
    long timeout_s;		/* per request; 0: the default */
    size_t max_response_bytes;	/* 0: the default */
    unsigned max_resources;	/* responses in one answer; 0: the default */
} crm_caldav_opts;

typedef struct crm_caldav crm_caldav;

typedef struct crm_caldav_calendar {
    char *url;			/* absolute */
    char *name;			/* displayname, or NULL */
    char *ctag;			/* CalendarServer getctag, or NULL */
    char *sync_token;		/* DAV:sync-token, or NULL */
} crm_caldav_calendar;

typedef struct crm_caldav_item {
    char *href;			/* as the server wrote it */
    char *etag;			/* or NULL */
    char *data;			/* calendar-data (multiget only), or NULL */
    size_t len;
} crm_caldav_item;

typedef struct crm_caldav_changes {
    crm_caldav_item *changed;	/* href and etag, no data */
    size_t n_changed;
    char **removed;		/* hrefs */
    size_t n_removed;
    char *sync_token;		/* the token to keep with the stored rows */
    bool token_invalid;		/* the server forgot the token: sync from NULL */
} crm_caldav_changes;

/* NULL with err set when the options are unusable (no URL, not http(s)). */
crm_caldav *crm_caldav_new(const crm_caldav_opts *opts, char *err, size_t errlen);
void crm_caldav_free(crm_caldav *dav);

int crm_caldav_discover(crm_caldav *dav, crm_caldav_calendar **cals, size_t *n,
                        char *err, size_t errlen);
void crm_caldav_calendars_free(crm_caldav_calendar *cals, size_t n);

int crm_caldav_sync(crm_caldav *dav, const char *calendar_url, const char *sync_token,
                    crm_caldav_changes *out, char *err, size_t errlen);
void crm_caldav_changes_clear(crm_caldav_changes *ch);

/* *ctag: the collection's getctag or NULL; *items: href and etag of
 * every resource. */
int crm_caldav_list(crm_caldav *dav, const char *calendar_url, char **ctag,
                    crm_caldav_item **items, size_t *n, char *err, size_t errlen);

/* Bodies of the hrefs, in batches of CRM_CALDAV_MULTIGET_BATCH; an href
 * the server no longer has is left out. */
int crm_caldav_multiget(crm_caldav *dav, const char *calendar_url, const char *const *hrefs,
                        size_t n_hrefs, crm_caldav_item **items, size_t *n,
                        char *err, size_t errlen);
void crm_caldav_items_free(crm_caldav_item *items, size_t n);

#endif
