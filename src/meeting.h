/*
 * NAME
 *	meeting 3h - the rows one meeting occurrence becomes in one workspace
 * DESCRIPTION
 *	Between the calendar parser (parsers/calendar_event.h) and the store,
 *	shared by every source of meetings (.ics files, invitations in mail,
 *	CalDAV): match organizer and attendees against the workspace
 *	exactly as mail parties are (matcher.h; rooms and resources are no
 *	people and are left out), and build the interaction of type meeting:
 *	- dedup key: "ical:<UID>" for a single event, "ical:<UID>/<original
 *	  start as YYYYMMDDTHHMMSSZ>" for an occurrence of a series (its
 *	  RECURRENCE-ID), so that a moved or rescheduled meeting stays the
 *	  same interaction;
 *	- content: summary, description and location, as the CRM reads them;
 *	- interacted_at: the occurrence's start (UTC); before 1990 or more
 *	  than two years ahead, the time it reached us (date_source says);
 *	- metadata: uid, recurrence_id, sequence, start and end (UTC), all_day,
 *	  location, status, cancelled, method, conference_url, organizer,
 *	  attendees with partstat, role and cutype, source; for source "caldav",
 *	  caldav_href: the resource's URL (ref);
 *	- replace: a newer version replaces the stored one (revision =
 *	  SEQUENCE; fingerprint = SHA-256 of what the CRM shows: text, times,
 *	  status, organizer and attendees with their answers). Replies and
 *	  counter-proposals (METHOD REPLY, COUNTER, DECLINECOUNTER) carry one
 *	  attendee's view only: they are stored when the meeting is unknown
 *	  and never replace it.
 * OWNERSHIP
 *	The crm_prepared is cleared with crm_prepared_clear().
 */
#ifndef CRM_MEETING_H
#define CRM_MEETING_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar_event.h"
#include "mail_message.h"
#include "prepare.h"
#include "workspace.h"

/* mail: the mail that carried the invitation, or NULL. policy: who may
 * become a new contact. A meeting whose external people are all blocked
 * gets out->skip (see prepare.h) and nothing else. */
void crm_meeting_rows(const crm_workspace *ws, const char *source, crm_contact_policy policy,
                      const crm_calendar *cal, const crm_cal_event *ev, const char *ref,
                      const crm_message *mail, int64_t receive_time, crm_prepared *out);

/* The dedup key of an occurrence (see above); g_free() it. */
char *crm_meeting_dedup_key(const crm_cal_event *ev);

/* "UID" or "UID at 2024-03-11T09:00:00Z", naming an occurrence in
 * messages; g_free() it. */
char *crm_meeting_label(const crm_cal_event *ev);

/* Whether a mail's text/calendar part with this METHOD is logged as a
 * meeting: REQUEST, REPLY, CANCEL, PUBLISH, ADD, or none given. */
bool crm_meeting_invitation_wanted(const char *method);

/* The limits for a mail's invitations: base's, with the expansion window
 * placed around the mail's date (an old invitation read in a backfill
 * expands around when it was sent, not around today). */
void crm_meeting_invitation_limits(const crm_cal_limits *base, int64_t mail_at,
                                   crm_cal_limits *out);

#endif
