/*
 * NAME
 *	calendar_event 3h - parse iCalendar (RFC 5545) into meeting occurrences
 * SYNOPSIS
 *	#include "calendar_event.h"
 * DESCRIPTION
 *	crm_calendar_parse() turns the bytes of one iCalendar object (an .ics
 *	file, a text/calendar mail part, a CalDAV resource) into a flat list
 *	of crm_cal_event: one per occurrence of every VEVENT, with all times
 *	converted to UTC. Pure: no database, no network, no files. libical
 *	does the parsing; its errors are made non-fatal (crm_calendar_init)
 *	so bad input is refused with a reason, never an abort.
 *
 *	Times:
 *	- DATE-TIME with TZID: the VTIMEZONE of the same VCALENDAR (Outlook's
 *	  "W. Europe Standard Time" works when the VTIMEZONE is there), else
 *	  the system zone of that name (libical's builtin, from tzdata), else
 *	  a few common Windows zone names mapped to their IANA zone; a TZID
 *	  still unknown is read as a floating time and flagged tz_unknown.
 *	- floating DATE-TIME (no Z, no TZID): in lim->default_tzid, or UTC
 *	  when that is NULL or unknown; flagged floating.
 *	- DATE (all-day): 00:00 UTC of that date, flagged all_day; the end is
 *	  DTEND's date (exclusive), else the next day. All-day events have no
 *	  instant, and the CRM sorts them by day: UTC midnight keeps the date
 *	  the same for everybody who reads it in UTC.
 *
 *	Recurrence: RRULE, RDATE and EXDATE are expanded, and components with
 *	a RECURRENCE-ID replace the occurrence they override, within the
 *	window [lim->window_start, lim->window_end) of occurrence starts
 *	(default: now - 90 days to now + 30 days). A non-recurring event is
 *	returned whatever its date: a backfill of old meetings is wanted. An
 *	override arriving without its series (an invitation for one instance)
 *	is returned as it is.
 *
 *	Identity: every occurrence of a series carries recurrence_id, the
 *	UTC start the series gave it before any override moved it (what
 *	RECURRENCE-ID names), so that an occurrence keeps its identity when it
 *	is moved. A non-recurring event has none (has_recurrence_id false):
 *	its UID alone names it, so rescheduling it is an update, not a new
 *	meeting.
 *
 *	Conference URL, first found of: CONFERENCE (RFC 7986),
 *	X-GOOGLE-CONFERENCE, X-MICROSOFT-SKYPETEAMSMEETINGURL,
 *	X-MICROSOFT-ONLINEMEETINGCONFLINK, X-MICROSOFT-ONLINEMEETINGEXTERNALLINK,
 *	any https:// link in LOCATION, then an https:// link in DESCRIPTION
 *	whose host is a known meeting service (zoom.us, meet.google.com,
 *	teams.microsoft.com, teams.live.com, webex.com, whereby.com,
 *	gotomeeting.com, meet.jit.si) - descriptions carry many other links.
 *
 *	Problems confined to one VEVENT (no UID, no DTSTART, a recurrence
 *	that expands past the limits) drop that event only: it is listed in
 *	problems[] and the others are returned.
 * LIMITS
 *	crm_cal_limits bounds input bytes, components (counted before libical
 *	builds anything), occurrences returned, recurrence iterator steps per
 *	rule, attendees kept per event and text kept per field.
 *	crm_cal_limits_default() fills the defaults.
 * DIAGNOSTICS
 *	Returns CRM_CAL_OK and sets *out (possibly with zero events when no
 *	occurrence falls in the window), or another status, leaves *out NULL
 *	and writes a one-line reason into err. When every VEVENT was dropped,
 *	the status is that of the first problem.
 * OWNERSHIP
 *	The caller frees *out with crm_calendar_free().
 */
#ifndef CRM_CALENDAR_EVENT_H
#define CRM_CALENDAR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRM_CAL_DEFAULT_MAX_BYTES	(8u * 1024 * 1024)
#define CRM_CAL_DEFAULT_MAX_COMPONENTS	10000u
#define CRM_CAL_DEFAULT_MAX_OCCURRENCES	5000u
#define CRM_CAL_DEFAULT_MAX_RRULE_STEPS	100000u
#define CRM_CAL_DEFAULT_MAX_ATTENDEES	500u
#define CRM_CAL_DEFAULT_MAX_TEXT_BYTES	(256u * 1024)
#define CRM_CAL_DEFAULT_PAST_DAYS	90
#define CRM_CAL_DEFAULT_FUTURE_DAYS	30
#define CRM_CAL_MAX_PROBLEMS		32u	/* problems[] kept; more are counted */

typedef struct crm_cal_limits {
    size_t   max_bytes;		/* the whole iCalendar text */
    unsigned max_components;	/* BEGIN: lines, VTIMEZONE parts included */
    unsigned max_occurrences;	/* events returned for the whole input */
    unsigned max_rrule_steps;	/* iterator steps per RRULE */
    unsigned max_attendees;	/* per event; the rest are dropped (attendees_truncated) */
    size_t   max_text_bytes;	/* per SUMMARY/DESCRIPTION/LOCATION; longer is cut */
    int64_t  window_start;	/* unix seconds; both 0: the default window from now */
    int64_t  window_end;
    const char *default_tzid;	/* zone of floating times; NULL: UTC */
} crm_cal_limits;

typedef enum crm_cal_status {
    CRM_CAL_OK = 0,
    CRM_CAL_TOO_LARGE,
    CRM_CAL_TOO_MANY_COMPONENTS,
    CRM_CAL_TOO_MANY_OCCURRENCES,	/* also: a rule needing too many steps */
    CRM_CAL_NOT_A_CALENDAR,		/* garbage, truncated, no VCALENDAR */
    CRM_CAL_BAD_EVENT,			/* a VEVENT without UID or DTSTART */
    CRM_CAL_NOMEM
} crm_cal_status;

typedef struct crm_cal_attendee {
    char *email;		/* from mailto:, as written; NULL when not a mailto: */
    char *name;			/* CN, or NULL */
    char *partstat;		/* upper case: ACCEPTED, DECLINED, ... or NULL */
    char *role;			/* upper case: REQ-PARTICIPANT, CHAIR, ... or NULL */
    char *cutype;		/* upper case: INDIVIDUAL, ROOM, RESOURCE, ... or NULL */
} crm_cal_attendee;

typedef struct crm_cal_event {
    char *uid;			/* never NULL */
    bool has_recurrence_id;	/* an occurrence of a series, or an override */
    int64_t recurrence_id;	/* its original start, UTC */
    bool is_override;		/* data from a RECURRENCE-ID component */
    int sequence;		/* SEQUENCE, 0 when absent */
    char *summary, *description, *location;	/* NULL when absent */
    int64_t start, end;		/* UTC unix seconds; end >= start */
    bool all_day;
    bool floating;		/* no zone given: read in default_tzid or UTC */
    bool tz_unknown;		/* a TZID nobody knew: read as floating */
    char *tzid;			/* DTSTART's TZID as written, or NULL */
    char *status;		/* STATUS upper case, or NULL */
    bool cancelled;		/* STATUS:CANCELLED, or METHOD:CANCEL */
    char *method;		/* the VCALENDAR's METHOD upper case, or NULL */
    char *conference_url;	/* see DESCRIPTION, or NULL */
    char *organizer_email;	/* from mailto:, or NULL */
    char *organizer_name;	/* CN, or NULL */
    crm_cal_attendee *attendees;
    size_t n_attendees;
    bool attendees_truncated;
    bool text_truncated;
} crm_cal_event;

typedef struct crm_calendar {
    crm_cal_event *events;
    size_t n_events;
    char *method;		/* METHOD of the (first) VCALENDAR, upper case, or NULL */
    char *prodid;		/* PRODID, or NULL */
    char **problems;		/* "UID x: why" per VEVENT dropped, at most CRM_CAL_MAX_PROBLEMS */
    size_t n_problems;
    size_t n_dropped;		/* VEVENTs dropped, >= n_problems */
} crm_calendar;

/* Call once per process before any parse; idempotent. Makes libical's
 * errors non-fatal. */
void crm_calendar_init(void);

void crm_cal_limits_default(crm_cal_limits *lim);

/* lim NULL: the defaults. data need not be NUL-terminated. */
crm_cal_status crm_calendar_parse(const char *data, size_t len, const crm_cal_limits *lim,
                                  crm_calendar **out, char *err, size_t errlen);

void crm_calendar_free(crm_calendar *cal);

const char *crm_cal_status_str(crm_cal_status st);

/* True when the bytes start (after an optional UTF-8 BOM and blank
 * lines) with BEGIN:VCALENDAR, any case: how a file is told to be
 * iCalendar, whatever its name. */
bool crm_calendar_sniff(const char *data, size_t len);

#endif
