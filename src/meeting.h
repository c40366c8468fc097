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
 *	- merge: one meeting is ONE interaction however many copies of it
 *	  arrive: the copies in several teammates' calendars (CalDAV, .ics
 *	  files), the invitation mail, the replies. Each copy is stored with
 *	  revision = SEQUENCE and fingerprint = SHA-256 of the copy (what the
 *	  CRM shows: text, times, status, organizer, attendees with their
 *	  answers; and whose calendar it is, and whether it is an answer),
 *	  and crmgate_store_revision() (sql/011_meeting_merge.sql) merges it
 *	  into the stored meeting:
 *	  . text, times and status come from the highest SEQUENCE, the
 *	    newest copy on a tie; replies and counter-proposals (METHOD
 *	    REPLY, COUNTER, DECLINECOUNTER) never give them;
 *	  . participants and metadata.attendees are the union by address of
 *	    every copy seen: nobody drops out because a later copy omits
 *	    them;
 *	  . an attendee's PARTSTAT is their own answer when one was seen (the
 *	    attendees of a REPLY, the owner in the copy of their own
 *	    calendar: own_answer true), else the newest copy's, where a copy
 *	    of the same SEQUENCE that still says NEEDS-ACTION (or nothing)
 *	    does not undo a known answer;
 *	  . a copy seen before (a re-poll, the same file or mail again)
 *	    changes nothing and is a duplicate, as is a copy that adds
 *	    nothing.
 *	- the calendar's owner (calendar_owner: the CalDAV source's owner,
 *	  when a workspace user) is a participant of every meeting in their
 *	  calendar, listed or not (some servers omit the owner); metadata
 *	  keeps calendar_owner (this copy's) and calendar_owners (all seen),
 *	  and caldav_hrefs (every copy's CalDAV resource): the meeting is
 *	  marked cancelled only when the last of them is gone.
 *	- declined: metadata.declined_by lists the attendees whose PARTSTAT
 *	  is DECLINED; metadata.declined is true when the occurrence is no
 *	  touchpoint: an internal (or absent) organizer and every external
 *	  attendee declined; an external organizer and every internal
 *	  attendee declined; or every calendar owner seen (not the
 *	  organizer) declined in their own copy. The interaction is kept;
 *	  a later accepting copy clears it. Decided by the store on the
 *	  merged attendees (crmgate_meeting_declined).
 *	- direction internal (no contact created) when organizer and every
 *	  attendee are workspace users or of workspace domains; rooms and
 *	  resources do not count.
 *	Invitation mail: a mail with a text/calendar part of an iTIP METHOD
 *	(crm_meeting_mail_is_invitation) is ONE touchpoint, the meeting: the
 *	mail itself is not stored besides it (its Message-ID and subject are
 *	in metadata.invitation_mail). No attempt is made to tell a human note
 *	from the generated invitation body: invitation mails with a note are
 *	rare, and a note lost is cheaper than every meeting counted twice.
 *	A mail whose invitation cannot be read, or holds no event, is stored
 *	as mail.
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

/* mail: the mail that carried the invitation, or NULL; calendar_owner:
 * the address whose calendar the copy comes from, or NULL (ignored unless
 * a workspace user); policy: who may become a new contact. A meeting
 * whose external people are all blocked gets out->skip (see prepare.h)
 * and nothing else. */
void crm_meeting_rows(const crm_workspace *ws, const char *source, const char *calendar_owner,
                      crm_contact_policy policy, const crm_calendar *cal,
                      const crm_cal_event *ev, const char *ref, const crm_message *mail,
                      int64_t receive_time, crm_prepared *out);

/* Whether a mail is an iTIP invitation (a text/calendar part with a
 * METHOD crm_meeting_invitation_wanted() takes): such a mail is logged
 * as its meetings only. */
bool crm_meeting_mail_is_invitation(const crm_message *msg);

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
