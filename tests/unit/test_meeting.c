/*
 * test_meeting - what one copy of a meeting tells the store
 *
 * The C half of "one meeting, one interaction" (meeting.h): the calendar
 * owner is a participant even when their server leaves them out, whose
 * answer each PARTSTAT is, which copies are the same copy (fingerprint),
 * and which mails are invitations only. Without a database: the
 * workspace snapshot is built by hand; the merge itself is SQL and is
 * tested in tests/integration/t-meeting-dedup.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <jansson.h>

#include "calendar_event.h"
#include "meeting.h"

#define EVENT(extra) \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" extra \
    "BEGIN:VEVENT\r\nUID:m-1@globex.com\r\nSEQUENCE:1\r\nDTSTAMP:20240301T100000Z\r\n" \
    "DTSTART:20240320T140000Z\r\nDTEND:20240320T150000Z\r\nSUMMARY:Review\r\n" \
    "ORGANIZER:mailto:carol@globex.com\r\n" \
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@globex.com\r\n" \
    "ATTENDEE;PARTSTAT=DECLINED:mailto:Bob@Vendor.example\r\n" \
    "END:VEVENT\r\nEND:VCALENDAR\r\n"

static crm_workspace *vendor(void)
{
    crm_workspace *ws = crm_workspace_new("00000000-0000-0000-0000-000000000001", "Vendor");
    crm_workspace_add_domain(ws, "vendor.example");
    crm_workspace_add_user(ws, "alice@vendor.example", "user-alice");
    crm_workspace_add_user(ws, "bob@vendor.example", "user-bob");
    return ws;
}

/* The rows of the only event of text, as calendar_owner's copy. */
static void rows(const crm_workspace *ws, const char *text, const char *owner, crm_prepared *out)
{
    crm_calendar *cal = NULL;
    char err[256];

    assert_int_equal(crm_calendar_parse(text, strlen(text), NULL, &cal, err, sizeof err), CRM_CAL_OK);
    assert_int_equal(cal->n_events, 1);
    crm_meeting_rows(ws, "file", owner, CRM_CONTACTS_SENT_AND_RECEIVED, cal, &cal->events[0], "ref", NULL, 0, out);
    crm_calendar_free(cal);
}

/* The attendee entry of email in the metadata, or NULL; borrowed from m. */
static json_t *attendee(json_t *m, const char *email)
{
    json_t *a = json_object_get(m, "attendees");

    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        if (g_strcmp0(json_string_value(json_object_get(e, "email")), email) == 0)
            return e;
    }
    return NULL;
}

static bool has_party(const char *parties, const char *email, const char *role)
{
    json_t *a = json_loads(parties, 0, NULL);
    bool found = false;

    for (size_t i = 0; i < json_array_size(a) && !found; i++) {
        json_t *p = json_array_get(a, i);
        found = g_strcmp0(json_string_value(json_object_get(p, "email")), email) == 0 &&
                g_strcmp0(json_string_value(json_object_get(p, "role")), role) == 0;
    }
    json_decref(a);
    return found;
}

static void owner_left_out_by_their_server_is_still_a_participant(void **state)
{
    crm_workspace *ws = vendor();
    crm_prepared p;
    json_t *m, *alice;

    (void)state;
    rows(ws, EVENT(""), "Alice@Vendor.example", &p);
    assert_true(has_party(p.parties, "alice@vendor.example", "attendee"));
    m = json_loads(p.metadata, 0, NULL);
    alice = attendee(m, "alice@vendor.example");
    assert_non_null(alice);
    assert_true(json_is_true(json_object_get(alice, "own_answer")));
    assert_true(json_is_null(json_object_get(alice, "partstat")));
    assert_string_equal(json_string_value(json_object_get(m, "calendar_owner")), "alice@vendor.example");
    /* Bob's DECLINED in Alice's copy is not his own answer */
    assert_false(json_is_true(json_object_get(attendee(m, "bob@vendor.example"), "own_answer")));
    assert_true(p.replace);
    assert_int_equal(p.revision, 1);
    json_decref(m);
    crm_prepared_clear(&p);
    crm_workspace_free(ws);
}

static void owners_own_copy_carries_their_answer(void **state)
{
    crm_workspace *ws = vendor();
    crm_prepared p;
    json_t *m, *bob;

    (void)state;
    rows(ws, EVENT(""), "bob@vendor.example", &p);
    m = json_loads(p.metadata, 0, NULL);
    bob = attendee(m, "bob@vendor.example");
    assert_non_null(bob);	/* the address as written, normalised */
    assert_true(json_is_true(json_object_get(bob, "own_answer")));
    assert_true(json_is_true(json_object_get(bob, "internal")));
    assert_string_equal(json_string_value(json_object_get(bob, "partstat")), "DECLINED");
    assert_false(json_is_true(json_object_get(attendee(m, "carol@globex.com"), "internal")));
    assert_int_equal(json_array_size(json_object_get(m, "attendees")), 2);	/* not added twice */
    json_decref(m);
    crm_prepared_clear(&p);
    crm_workspace_free(ws);
}

static void a_stranger_owns_no_calendar(void **state)
{
    crm_workspace *ws = vendor();
    crm_prepared p;
    json_t *m;

    (void)state;
    rows(ws, EVENT(""), "mallory@evil.example", &p);
    assert_false(has_party(p.parties, "mallory@evil.example", "attendee"));
    m = json_loads(p.metadata, 0, NULL);
    assert_true(json_is_null(json_object_get(m, "calendar_owner")));
    json_decref(m);
    crm_prepared_clear(&p);
    crm_workspace_free(ws);
}

static void a_reply_answers_for_its_attendees(void **state)
{
    crm_workspace *ws = vendor();
    crm_prepared p;
    json_t *m;

    (void)state;
    rows(ws, EVENT("METHOD:REPLY\r\n"), NULL, &p);
    m = json_loads(p.metadata, 0, NULL);
    assert_true(json_is_true(json_object_get(attendee(m, "bob@vendor.example"), "own_answer")));
    assert_true(p.replace);	/* merged: the store keeps the meeting's text */
    json_decref(m);
    crm_prepared_clear(&p);
    crm_workspace_free(ws);
}

static void the_same_copy_has_the_same_fingerprint_whoever_reads_it(void **state)
{
    crm_workspace *ws = vendor();
    crm_prepared a, b, c, d;

    (void)state;
    rows(ws, EVENT(""), "alice@vendor.example", &a);
    rows(ws, EVENT(""), "alice@vendor.example", &b);
    rows(ws, EVENT(""), "bob@vendor.example", &c);
    rows(ws, EVENT("METHOD:REPLY\r\n"), "alice@vendor.example", &d);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_string_equal(a.dedup_key, c.dedup_key);
    assert_string_not_equal(a.fingerprint, c.fingerprint);	/* whose answers differ */
    assert_string_not_equal(a.fingerprint, d.fingerprint);
    crm_prepared_clear(&a);
    crm_prepared_clear(&b);
    crm_prepared_clear(&c);
    crm_prepared_clear(&d);
    crm_workspace_free(ws);
}

static void only_itip_mail_is_an_invitation(void **state)
{
    crm_calendar_part req = { .method = (char *)"REQUEST" }, none = { .method = NULL },
                      refresh = { .method = (char *)"REFRESH" };
    crm_message msg = { 0 };

    (void)state;
    assert_false(crm_meeting_mail_is_invitation(&msg));
    msg.calendar_parts = &none;
    msg.n_calendar_parts = 1;
    assert_false(crm_meeting_mail_is_invitation(&msg));	/* an .ics attached by hand */
    msg.calendar_parts = &refresh;
    assert_false(crm_meeting_mail_is_invitation(&msg));
    msg.calendar_parts = &req;
    assert_true(crm_meeting_mail_is_invitation(&msg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(owner_left_out_by_their_server_is_still_a_participant),
        cmocka_unit_test(owners_own_copy_carries_their_answer),
        cmocka_unit_test(a_stranger_owns_no_calendar),
        cmocka_unit_test(a_reply_answers_for_its_attendees),
        cmocka_unit_test(the_same_copy_has_the_same_fingerprint_whoever_reads_it),
        cmocka_unit_test(only_itip_mail_is_an_invitation),
    };

    crm_calendar_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
