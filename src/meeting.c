/*
 * NAME
 *	meeting 3 - the rows one meeting occurrence becomes in one workspace
 * DESCRIPTION
 *	See meeting.h. Builds the JSON the store takes with jansson; the only
 *	place that knows both a parsed calendar event and the shape of the
 *	rows. Knows no SQL.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>

#include "digest.h"
#include "json_util.h"
#include "matcher.h"
#include "meeting.h"
#include "pipeline.h"

/* A meeting further ahead than this is a broken date, not a plan. */
#define MAX_MEETING_AHEAD	(2 * 366 * 86400)

static void iso_utc(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ical_utc(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}

char *crm_meeting_label(const crm_cal_event *ev)
{
    char at[32];

    if (!ev->has_recurrence_id)
        return g_strdup(ev->uid);
    iso_utc(ev->recurrence_id, at);
    return g_strdup_printf("%s at %s", ev->uid, at);
}

char *crm_meeting_dedup_key(const crm_cal_event *ev)
{
    char rid[32];

    if (!ev->has_recurrence_id)
        return g_strconcat("ical:", ev->uid, NULL);
    ical_utc(ev->recurrence_id, rid);
    return g_strconcat("ical:", ev->uid, "/", rid, NULL);
}

bool crm_meeting_invitation_wanted(const char *method)
{
    static const char *const wanted[] = { "REQUEST", "REPLY", "CANCEL", "PUBLISH", "ADD" };

    if (method == NULL)
        return true;
    for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++) {
        if (g_ascii_strcasecmp(method, wanted[i]) == 0)
            return true;
    }
    return false;
}

void crm_meeting_invitation_limits(const crm_cal_limits *base, int64_t mail_at,
                                   crm_cal_limits *out)
{
    *out = *base;
    out->window_start = mail_at - (int64_t)CRM_CAL_DEFAULT_PAST_DAYS * 86400;
    out->window_end = mail_at + (int64_t)CRM_CAL_DEFAULT_FUTURE_DAYS * 86400;
}

/* One attendee's view only: it answers for them, never for the meeting. */
static bool is_answer(const char *method)
{
    return method != NULL && (strcmp(method, "REPLY") == 0 || strcmp(method, "COUNTER") == 0 ||
                              strcmp(method, "DECLINECOUNTER") == 0);
}

bool crm_meeting_mail_is_invitation(const crm_message *msg)
{
    for (size_t i = 0; i < msg->n_calendar_parts; i++) {
        if (msg->calendar_parts[i].method != NULL &&
            crm_meeting_invitation_wanted(msg->calendar_parts[i].method))
            return true;
    }
    return false;
}

/* The calendar's owner as the store needs it: a workspace user's
 * normalised address, else NULL (a mailbox of nobody we know adds no
 * participant). g_free() it. */
static char *owner_address(const crm_workspace *ws, const char *owner)
{
    char *e = owner != NULL ? crm_email_normalise(owner) : NULL;

    if (e != NULL && crm_workspace_user(ws, e) == NULL)
        g_clear_pointer(&e, g_free);
    return e;
}

/* Whether a raw address is the (normalised) owner's. */
static bool is_owner(const char *raw, const char *owner)
{
    char *e;
    bool same;

    if (raw == NULL || owner == NULL)
        return false;
    e = crm_email_normalise(raw);
    same = e != NULL && strcmp(e, owner) == 0;
    g_free(e);
    return same;
}

/* Whether the copy lists the owner at all (as organizer or attendee):
 * some servers leave the owner out of their own events. */
static bool lists(const crm_cal_event *ev, const char *owner)
{
    if (is_owner(ev->organizer_email, owner))
        return true;
    for (size_t i = 0; i < ev->n_attendees; i++) {
        if (is_owner(ev->attendees[i].email, owner))
            return true;
    }
    return false;
}

static bool is_person(const crm_cal_attendee *a)
{
    return a->email != NULL &&
           (a->cutype == NULL || (strcmp(a->cutype, "ROOM") != 0 &&
                                  strcmp(a->cutype, "RESOURCE") != 0));
}

/* owner: the calendar's owner when the copy does not list them, or NULL:
 * a participant all the same. */
static void match_people(const crm_workspace *ws, const crm_cal_event *ev, const char *owner,
                         crm_match *m)
{
    const crm_address_list *by_role[CRM_ROLE_COUNT] = { 0 };
    crm_address org_item = { ev->organizer_name, ev->organizer_email };
    crm_address_list org = { &org_item, ev->organizer_email != NULL ? 1 : 0 };
    crm_address_list att = { g_new0(crm_address, ev->n_attendees + 2), 0 };

    for (size_t i = 0; i < ev->n_attendees; i++) {
        if (!is_person(&ev->attendees[i]))
            continue;
        att.items[att.count].email = ev->attendees[i].email;
        att.items[att.count].name = ev->attendees[i].name;
        att.count++;
    }
    if (owner != NULL) {
        att.items[att.count].email = (char *)owner;
        att.count++;
    }
    by_role[CRM_ROLE_ORGANIZER] = &org;
    by_role[CRM_ROLE_ATTENDEE] = &att;
    crm_match_addresses(ws, by_role, m);
    g_free(att.items);
}

static char *content_text(const crm_cal_event *ev)
{
    GString *s = g_string_new(NULL);

    if (ev->summary != NULL)
        g_string_append(s, ev->summary);
    if (ev->description != NULL)
        g_string_append_printf(s, "%s%s", s->len ? "\n\n" : "", ev->description);
    if (ev->location != NULL)
        g_string_append_printf(s, "%sLocation: %s", s->len ? "\n\n" : "", ev->location);
    return g_string_free(s, FALSE);
}

/* The attendees as metadata lists them. Addresses are normalised: copies
 * of one meeting are merged by address (sql/011_meeting_merge.sql).
 * ws NULL: for the fingerprint, without the flags derived from the
 * workspace. own_all: the copy is an answer (REPLY), every attendee in
 * it answers for themself; owner: the calendar's owner, whose entry is
 * their own answer, added (partstat unknown) when the copy omits them. */
static json_t *people_json(const crm_workspace *ws, const crm_cal_event *ev, bool own_all,
                           const char *owner)
{
    json_t *a = json_array();
    bool listed = false;

    for (size_t i = 0; i < ev->n_attendees; i++) {
        const crm_cal_attendee *at = &ev->attendees[i];
        json_t *o = json_object();
        char *email = at->email != NULL ? crm_email_normalise(at->email) : NULL;
        bool own = email != NULL && owner != NULL && strcmp(email, owner) == 0;

        json_object_set_new(o, "email", crm_json_string(email != NULL ? email : at->email));
        json_object_set_new(o, "name", crm_json_string(at->name));
        json_object_set_new(o, "partstat", crm_json_string(at->partstat));
        json_object_set_new(o, "role", crm_json_string(at->role));
        json_object_set_new(o, "cutype", crm_json_string(at->cutype));
        if (ws != NULL) {
            json_object_set_new(o, "internal",
                                json_boolean(email != NULL && crm_workspace_is_internal(ws, email)));
            json_object_set_new(o, "own_answer", json_boolean(own_all || own));
            json_object_set_new(o, "answer_sequence", json_integer(ev->sequence));
        }
        json_array_append_new(a, o);
        g_free(email);
        listed = listed || own;
    }
    if (ws != NULL && owner != NULL && !listed && !is_owner(ev->organizer_email, owner)) {
        json_t *o = json_object();
        json_object_set_new(o, "email", json_string(owner));
        json_object_set_new(o, "name", json_null());
        json_object_set_new(o, "partstat", json_null());
        json_object_set_new(o, "role", json_null());
        json_object_set_new(o, "cutype", json_null());
        json_object_set_new(o, "internal", json_true());
        json_object_set_new(o, "own_answer", json_true());
        json_object_set_new(o, "answer_sequence", json_integer(ev->sequence));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *organizer_json(const crm_workspace *ws, const crm_cal_event *ev)
{
    json_t *o;
    char *email;

    if (ev->organizer_email == NULL && ev->organizer_name == NULL)
        return json_null();
    o = json_object();
    email = ev->organizer_email != NULL ? crm_email_normalise(ev->organizer_email) : NULL;
    json_object_set_new(o, "email", crm_json_string(email != NULL ? email : ev->organizer_email));
    json_object_set_new(o, "name", crm_json_string(ev->organizer_name));
    if (ws != NULL)
        json_object_set_new(o, "internal",
                            json_boolean(email != NULL && crm_workspace_is_internal(ws, email)));
    g_free(email);
    return o;
}

/* One copy of a meeting, hashed: what the CRM shows of it, and whose
 * answers it holds (the calendar owner; an answer or not). The store
 * remembers the copies it merged, so a copy seen again (a re-poll, the
 * same file or mail again) changes nothing. Source and the rest of the
 * method are left out: the same meeting read from a file and from an
 * invitation is the same copy. */
static char *fingerprint(const crm_cal_event *ev, const char *content, const char *owner)
{
    json_t *o = json_object();
    char *dump, *hex;

    json_object_set_new(o, "content", crm_json_string(content));
    json_object_set_new(o, "start", json_integer((json_int_t)ev->start));
    json_object_set_new(o, "end", json_integer((json_int_t)ev->end));
    json_object_set_new(o, "all_day", json_boolean(ev->all_day));
    json_object_set_new(o, "status", crm_json_string(ev->status));
    json_object_set_new(o, "cancelled", json_boolean(ev->cancelled));
    json_object_set_new(o, "conference_url", crm_json_string(ev->conference_url));
    json_object_set_new(o, "organizer", organizer_json(NULL, ev));
    json_object_set_new(o, "attendees", people_json(NULL, ev, false, NULL));
    json_object_set_new(o, "owner", crm_json_string(owner));
    json_object_set_new(o, "answer", json_boolean(is_answer(ev->method)));
    dump = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    hex = g_malloc(65);
    crm_sha256_hex(dump != NULL ? dump : "", dump != NULL ? strlen(dump) : 0, hex);
    free(dump);
    return hex;
}

static char *metadata_json(const crm_workspace *ws, const char *source, const crm_calendar *cal,
                           const crm_cal_event *ev, const crm_match *m, const char *ref,
                           const crm_message *mail, const char *date_source, const char *owner)
{
    json_t *o = json_object();
    char at[32];
    char *out;

    json_object_set_new(o, "uid", crm_json_string(ev->uid));
    if (ev->has_recurrence_id) {
        iso_utc(ev->recurrence_id, at);
        json_object_set_new(o, "recurrence_id", json_string(at));
    } else {
        json_object_set_new(o, "recurrence_id", json_null());
    }
    json_object_set_new(o, "sequence", json_integer(ev->sequence));
    json_object_set_new(o, "summary", crm_json_string(ev->summary));
    iso_utc(ev->start, at);
    json_object_set_new(o, "start", json_string(at));
    iso_utc(ev->end, at);
    json_object_set_new(o, "end", json_string(at));
    json_object_set_new(o, "all_day", json_boolean(ev->all_day));
    if (ev->floating)
        json_object_set_new(o, "floating", json_true());
    if (ev->tz_unknown)
        json_object_set_new(o, "tz_unknown", json_true());
    json_object_set_new(o, "tzid", crm_json_string(ev->tzid));
    json_object_set_new(o, "location", crm_json_string(ev->location));
    json_object_set_new(o, "status", crm_json_string(ev->status));
    json_object_set_new(o, "cancelled", json_boolean(ev->cancelled));
    json_object_set_new(o, "method", crm_json_string(ev->method));
    json_object_set_new(o, "conference_url", crm_json_string(ev->conference_url));
    json_object_set_new(o, "organizer", organizer_json(ws, ev));
    json_object_set_new(o, "attendees", people_json(ws, ev, is_answer(ev->method), owner));
    /* whose calendar this copy is; the store keeps every owner seen in
     * calendar_owners, and decides declined and declined_by */
    json_object_set_new(o, "calendar_owner", crm_json_string(owner));
    if (ev->attendees_truncated)
        json_object_set_new(o, "attendees_truncated", json_true());
    if (ev->text_truncated)
        json_object_set_new(o, "text_truncated", json_true());
    json_object_set_new(o, "direction", json_string(crm_direction_name(m->direction)));
    json_object_set_new(o, "date_source", json_string(date_source));
    json_object_set_new(o, "prodid", crm_json_string(cal->prodid));
    json_object_set_new(o, "source", crm_json_string(source));
    json_object_set_new(o, "source_ref", crm_json_string(ref));
    /* the CalDAV resource the meeting came from: when the resource is
     * deleted or stops holding an occurrence, the source marks it
     * cancelled by this (sql/008_caldav.sql) */
    if (source != NULL && strcmp(source, "caldav") == 0)
        json_object_set_new(o, "caldav_href", crm_json_string(ref));
    if (mail != NULL) {
        json_t *v = json_object();
        json_object_set_new(v, "message_id", crm_json_string(mail->message_id));
        json_object_set_new(v, "subject", crm_json_string(mail->subject));
        json_object_set_new(o, "invitation_mail", v);
    }
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

void crm_meeting_rows(const crm_workspace *ws, const char *source, const char *calendar_owner,
                      crm_contact_policy policy,
                      const crm_calendar *cal, const crm_cal_event *ev, const char *ref,
                      const crm_message *mail, int64_t receive_time, crm_prepared *out)
{
    int64_t now = (int64_t)time(NULL);
    const char *date_source = "start";
    char *owner = owner_address(ws, calendar_owner);
    crm_match m;

    memset(out, 0, sizeof *out);
    match_people(ws, ev, owner != NULL && !lists(ev, owner) ? owner : NULL, &m);
    crm_match_apply_policy(&m, policy);
    out->skip = crm_prepare_blocked_reason(&m);
    if (out->skip != NULL) {
        crm_match_clear(&m);
        return;
    }
    out->dedup_key = crm_meeting_dedup_key(ev);
    out->interacted_at = ev->start;
    if (ev->start < CRM_MIN_SANE_DATE || ev->start > now + MAX_MEETING_AHEAD) {
        out->interacted_at = receive_time;
        date_source = "ingest";
    }
    out->content = content_text(ev);
    out->metadata = metadata_json(ws, source, cal, ev, &m, ref, mail, date_source, owner);
    out->parties = crm_prepare_parties_json(&m, m.user_id);
    out->documents = strdup("[]");	/* freed with free(), as json_dumps() output */
    out->type = "meeting";
    out->replace = true;		/* a merge: see meeting.h */
    out->revision = ev->sequence;
    out->fingerprint = fingerprint(ev, out->content, owner);
    crm_match_clear(&m);
    g_free(owner);
}
