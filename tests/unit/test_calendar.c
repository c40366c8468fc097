/*
 * test_calendar - what crmgate reads out of an iCalendar file
 *
 * Each test is a behaviour a CRM user would notice: a weekly meeting
 * whose instants stay right across a daylight saving change, an Outlook
 * zone name understood, a moved occurrence kept as the same occurrence,
 * a cancelled meeting recognised, and hostile or broken files refused
 * with a reason instead of a crash. Fixtures are in tests/data/ics
 * (see the README there for their origin).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "fixture.h"

#include "calendar_event.h"

static char *fixture(const char *name, size_t *len)
{
    return test_fixture("ics", name, len);
}

/* The limits with a window [from, to) of unix seconds. */
static crm_cal_limits window(int64_t from, int64_t to)
{
    crm_cal_limits lim;

    crm_cal_limits_default(&lim);
    lim.window_start = from;
    lim.window_end = to;
    return lim;
}

static crm_calendar *parse_file(const char *name, const crm_cal_limits *lim)
{
    size_t len;
    char *data = fixture(name, &len);
    crm_calendar *cal = NULL;
    char err[256];
    crm_cal_status st = crm_calendar_parse(data, len, lim, &cal, err, sizeof err);

    g_free(data);
    if (st != CRM_CAL_OK)
        fail_msg("%s: %s", name, err);
    return cal;
}

static crm_cal_status parse_fails(const char *data, size_t len, const crm_cal_limits *lim,
                                  char *err, size_t errlen)
{
    crm_calendar *cal = NULL;
    crm_cal_status st = crm_calendar_parse(data, len, lim, &cal, err, errlen);

    assert_int_not_equal(st, CRM_CAL_OK);
    assert_null(cal);
    assert_true(err[0] != '\0');
    return st;
}

static const crm_cal_event *by_rid(const crm_calendar *cal, int64_t rid)
{
    for (size_t i = 0; i < cal->n_events; i++) {
        if (cal->events[i].has_recurrence_id && cal->events[i].recurrence_id == rid)
            return &cal->events[i];
    }
    fail_msg("no occurrence with recurrence id %lld", (long long)rid);
    return NULL;
}

static const crm_cal_event *by_uid(const crm_calendar *cal, const char *uid)
{
    for (size_t i = 0; i < cal->n_events; i++) {
        if (strcmp(cal->events[i].uid, uid) == 0)
            return &cal->events[i];
    }
    fail_msg("no event %s", uid);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    crm_calendar_init();
    return 0;
}

/* Outlook: zone "W. Europe Standard Time" from its VTIMEZONE, a weekly
 * meeting over the March 2024 change to summer time. */
static void outlook_weekly_meeting_keeps_local_time_across_dst(void **state)
{
    crm_cal_limits lim = window(1709251200, 1714521600);	/* March - April 2024 */
    crm_calendar *cal = parse_file("outlook-weekly-dst.ics", &lim);
    const crm_cal_event *e;

    (void)state;
    assert_string_equal(cal->method, "REQUEST");
    /* six Mondays, one excluded by EXDATE: five occurrences */
    assert_int_equal(cal->n_events, 5);
    e = by_rid(cal, 1710147600);		/* 2024-03-11 10:00 CET = 09:00Z */
    assert_int_equal(e->start, 1710147600);
    assert_int_equal(e->end, 1710147600 + 1800);
    e = by_rid(cal, 1711357200);		/* 2024-03-25 10:00 CET = 09:00Z */
    assert_int_equal(e->start, 1711357200);
    e = by_rid(cal, 1711958400);		/* 2024-04-01 10:00 CEST = 08:00Z */
    assert_int_equal(e->start, 1711958400);
    assert_int_equal(e->start - 1711357200, 7 * 86400 - 3600);
    assert_false(e->floating);
    assert_string_equal(e->tzid, "W. Europe Standard Time");
    assert_string_equal(e->summary, "MegaCorp rollout sync");
    assert_string_equal(e->status, "CONFIRMED");
    assert_false(e->cancelled);
    assert_string_equal(e->conference_url,
                        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0");
    assert_string_equal(e->organizer_email, "alice@vendor.example");
    assert_string_equal(e->organizer_name, "Alice Archer");
    assert_int_equal(e->n_attendees, 3);
    assert_string_equal(e->attendees[1].email, "David.Doe@MegaCorp.com");
    assert_string_equal(e->attendees[1].partstat, "ACCEPTED");
    assert_string_equal(e->attendees[1].role, "OPT-PARTICIPANT");
    assert_string_equal(e->attendees[2].cutype, "ROOM");
    assert_non_null(strstr(e->description, "Microsoft Teams meeting\nJoin on your computer"));
    crm_calendar_free(cal);
}

static void moved_occurrence_keeps_its_identity_and_exdate_drops_one(void **state)
{
    crm_cal_limits lim = window(1709251200, 1714521600);
    crm_calendar *cal = parse_file("outlook-weekly-dst.ics", &lim);
    const crm_cal_event *e;

    (void)state;
    /* 2024-03-18 10:00 CET moved to Tuesday 19th 14:00 CET */
    e = by_rid(cal, 1710752400);
    assert_true(e->is_override);
    assert_int_equal(e->start, 1710853200);
    assert_int_equal(e->end, 1710853200 + 1800);
    assert_int_equal(e->sequence, 1);
    assert_string_equal(e->summary, "MegaCorp rollout sync (moved to Tuesday)");
    /* 2024-04-08 is excluded, 2024-04-15 is the last */
    for (size_t i = 0; i < cal->n_events; i++)
        assert_int_not_equal(cal->events[i].recurrence_id, 1712563200);
    e = by_rid(cal, 1713168000);
    assert_false(e->is_override);
    assert_int_equal(e->sequence, 0);
    crm_calendar_free(cal);
}

static void window_limits_the_occurrences_of_a_series(void **state)
{
    /* only 2024-03-25 .. 2024-04-02 */
    crm_cal_limits lim = window(1711324800, 1712016000);
    crm_calendar *cal = parse_file("outlook-weekly-dst.ics", &lim);

    (void)state;
    assert_int_equal(cal->n_events, 2);
    assert_int_equal(cal->events[0].start, 1711357200);
    assert_int_equal(cal->events[1].start, 1711958400);
    crm_calendar_free(cal);
}

/* Apple Calendar: America/New_York across the November 2024 change,
 * quoted CN with a comma, a Zoom link in the description, an all-day
 * event. */
static void apple_meeting_in_new_york_across_the_fall_change(void **state)
{
    crm_cal_limits lim = window(1727740800, 1733011200);	/* Oct - Nov 2024 */
    crm_calendar *cal = parse_file("apple-new-york.ics", &lim);
    const crm_cal_event *e;
    size_t weekly = 0;

    (void)state;
    for (size_t i = 0; i < cal->n_events; i++)
        weekly += strcmp(cal->events[i].uid, "6E1F2C3A-9B7D-4E8F-A1B2-C3D4E5F60718") == 0;
    assert_int_equal(weekly, 4);		/* UNTIL is inclusive */
    e = by_rid(cal, 1730379600);		/* 2024-10-31 09:00 EDT = 13:00Z */
    assert_int_equal(e->start, 1730379600);
    assert_int_equal(e->end - e->start, 1800);
    e = by_rid(cal, 1730988000);		/* 2024-11-07 09:00 EST = 14:00Z */
    assert_int_equal(e->start, 1730988000);
    assert_string_equal(e->organizer_name, "Rep, Robert");
    assert_string_equal(e->attendees[0].email, "hank@globex.com");
    assert_string_equal(e->attendees[1].role, "CHAIR");
    /* the agenda link is no meeting; the Zoom one is, without the dot */
    assert_string_equal(e->conference_url, "https://us02web.zoom.us/j/81234567890?pwd=abc123");
    crm_calendar_free(cal);
}

static void all_day_event_is_midnight_utc_with_its_days(void **state)
{
    crm_cal_limits lim = window(1727740800, 1733011200);
    crm_calendar *cal = parse_file("apple-new-york.ics", &lim);
    const crm_cal_event *e = by_uid(cal, "0D3E5A77-1111-4C2B-9E3A-ALLDAY000001");

    (void)state;
    assert_true(e->all_day);
    assert_false(e->has_recurrence_id);
    assert_int_equal(e->start, 1730764800);	/* 2024-11-05 00:00Z */
    assert_int_equal(e->end, 1730937600);	/* 2024-11-07 00:00Z, exclusive */
    assert_string_equal(e->location, "Springfield");
    assert_null(e->conference_url);
    crm_calendar_free(cal);
}

/* A real Google Calendar export (python-icalendar's test data). */
static void google_export_with_exdates_in_new_york(void **state)
{
    crm_cal_limits lim = window(1377993600, 1383264000);	/* Sep - Oct 2013 */
    crm_calendar *cal = parse_file("python-icalendar/issue_112_missing_tzinfo_on_exdate.ics", &lim);
    const crm_cal_event *e;

    (void)state;
    assert_string_equal(cal->method, "PUBLISH");
    /* Fridays and Saturdays 2013-09-07 .. 2013-10-19, less two EXDATEs */
    assert_int_equal(cal->n_events, 11);
    e = &cal->events[0];
    assert_int_equal(e->start, 1378569600);	/* 2013-09-07 12:00 EDT */
    assert_int_equal(e->end - e->start, 5 * 3600);
    assert_string_equal(e->uid, "ak30b02u7858q1oo6ji9dm4mgg@google.com");
    assert_string_equal(e->location, "12th and Market Streets (weather permitting)");
    assert_non_null(strstr(e->description, "live entertainment on Friday"));
    assert_int_equal(cal->events[10].start, 1382198400);	/* 2013-10-19 */
    for (size_t i = 0; i < cal->n_events; i++) {
        /* 2013-10-11 and -12 12:00 EDT are excluded */
        assert_int_not_equal(cal->events[i].start, 1381507200);
        assert_int_not_equal(cal->events[i].start, 1381593600);
    }
    crm_calendar_free(cal);
}

/* python-icalendar's: two DTSTARTs in one event, a custom zone name. */
static void custom_zone_name_from_its_vtimezone(void **state)
{
    crm_calendar *cal = parse_file("python-icalendar/america_new_york.ics", NULL);

    (void)state;
    assert_int_equal(cal->n_events, 1);
    assert_int_equal(cal->events[0].start, 1409313600);	/* 2014-08-29 08:00 EDT */
    assert_false(cal->events[0].tz_unknown);
    crm_calendar_free(cal);
}

static void several_events_and_a_date_only_event(void **state)
{
    crm_calendar *cal = parse_file("python-icalendar/multiple.ics", NULL);

    (void)state;
    assert_true(cal->n_events >= 1);
    for (size_t i = 0; i < cal->n_events; i++)
        assert_true(cal->events[i].end >= cal->events[i].start);
    crm_calendar_free(cal);
}

static void cancelled_event_is_marked(void **state)
{
    crm_calendar *cal = parse_file("cancelled.ics", NULL);
    const crm_cal_event *e;

    (void)state;
    assert_int_equal(cal->n_events, 1);
    e = &cal->events[0];
    assert_true(e->cancelled);
    assert_string_equal(e->status, "CANCELLED");
    assert_string_equal(e->method, "CANCEL");
    assert_int_equal(e->sequence, 2);
    assert_int_equal(e->start, 1715778000);
    assert_false(e->has_recurrence_id);
    assert_null(e->location);			/* "LOCATION:" empty */
    assert_string_equal(e->conference_url, "https://meet.google.com/abc-defg-hij");
    assert_string_equal(e->attendees[0].email, "jane@gmail.com");
    crm_calendar_free(cal);
}

static void floating_times_and_zone_names_nobody_declared(void **state)
{
    crm_cal_limits lim;
    crm_calendar *cal;
    const crm_cal_event *e;

    (void)state;
    crm_cal_limits_default(&lim);
    cal = parse_file("floating-and-bare-tzid.ics", &lim);
    e = by_uid(cal, "floating-1@example.com");
    assert_true(e->floating);
    assert_int_equal(e->start, 1717232400);	/* read as UTC */
    e = by_uid(cal, "bare-windows-1@example.com");
    assert_false(e->floating);
    assert_int_equal(e->start, 1717246800);	/* 09:00 EDT */
    assert_string_equal(e->conference_url, "https://acme.zoom.us/j/123");
    e = by_uid(cal, "bare-olson-1@example.com");
    assert_int_equal(e->start, 1717225200);	/* 09:00 CEST */
    e = by_uid(cal, "unknown-zone-1@example.com");
    assert_true(e->tz_unknown);
    assert_int_equal(e->start, 1717232400);
    crm_calendar_free(cal);

    lim.default_tzid = "Europe/Berlin";
    cal = parse_file("floating-and-bare-tzid.ics", &lim);
    assert_int_equal(by_uid(cal, "floating-1@example.com")->start, 1717225200);
    crm_calendar_free(cal);
}

static void truncated_file_is_refused(void **state)
{
    size_t len;
    char *data = fixture("truncated.ics", &len);
    char err[256];

    (void)state;
    assert_int_equal(parse_fails(data, len, NULL, err, sizeof err), CRM_CAL_NOT_A_CALENDAR);
    assert_non_null(strstr(err, "truncated"));
    g_free(data);
}

static void event_without_dtstart_is_refused_with_its_uid(void **state)
{
    size_t len;
    char *data = fixture("no-dtstart.ics", &len);
    char err[256];

    (void)state;
    assert_int_equal(parse_fails(data, len, NULL, err, sizeof err), CRM_CAL_BAD_EVENT);
    assert_non_null(strstr(err, "nostart-1@example.com"));
    assert_non_null(strstr(err, "DTSTART"));
    g_free(data);
}

static void one_bad_event_does_not_spoil_the_others(void **state)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:good@x\r\nDTSTART:20240601T090000Z\r\nSUMMARY:Good\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:bad@x\r\nDTSTART:20241399T250000Z\r\nSUMMARY:Bad\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART:20240601T090000Z\r\nSUMMARY:No uid\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    crm_calendar *cal = NULL;
    char err[256];

    (void)state;
    assert_int_equal(crm_calendar_parse(ics, sizeof ics - 1, NULL, &cal, err, sizeof err),
                     CRM_CAL_OK);
    assert_int_equal(cal->n_events, 1);
    assert_string_equal(cal->events[0].uid, "good@x");
    assert_int_equal(cal->n_dropped, 2);
    assert_int_equal(cal->n_problems, 2);
    assert_non_null(strstr(cal->problems[0], "without UID"));
    assert_non_null(strstr(cal->problems[1], "bad@x"));
    crm_calendar_free(cal);
}

static void garbage_is_refused(void **state)
{
    size_t len;
    char *data = fixture("garbage.ics", &len);
    char err[256];
    static const char binary[] = "BEGIN:VCALENDAR\r\n\0\x01\x02\r\nEND:VCALENDAR\r\n";
    static const char mail[] = "From: a@b\r\nSubject: hi\r\n\r\nBEGIN:VCALENDAR\r\n";

    (void)state;
    parse_fails(data, len, NULL, err, sizeof err);
    g_free(data);
    assert_int_equal(parse_fails(binary, sizeof binary - 1, NULL, err, sizeof err),
                     CRM_CAL_NOT_A_CALENDAR);
    assert_int_equal(parse_fails(mail, sizeof mail - 1, NULL, err, sizeof err),
                     CRM_CAL_NOT_A_CALENDAR);
    assert_int_equal(parse_fails("", 0, NULL, err, sizeof err), CRM_CAL_NOT_A_CALENDAR);
}

/* refused before libical sees them (libical would complain on stderr) */
static void unbalanced_begin_and_end_are_refused(void **state)
{
    static const char early_end[] =
        "BEGIN:VCALENDAR\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n";
    static const char no_end[] =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20240601T090000Z\r\n"
        "END:VCALENDAR\r\n";
    char err[256];

    (void)state;
    assert_int_equal(parse_fails(early_end, sizeof early_end - 1, NULL, err, sizeof err),
                     CRM_CAL_NOT_A_CALENDAR);
    assert_non_null(strstr(err, "END:VEVENT at byte 17 while BEGIN:VCALENDAR is open"));
    assert_int_equal(parse_fails(no_end, sizeof no_end - 1, NULL, err, sizeof err),
                     CRM_CAL_NOT_A_CALENDAR);
    assert_non_null(strstr(err, "END:VCALENDAR at byte 64 while BEGIN:VEVENT is open"));
}

static void huge_rrule_count_is_refused_at_the_occurrence_limit(void **state)
{
    crm_cal_limits lim = window(1704067200, 1735689600);	/* 2024 */
    size_t len;
    char *data = fixture("huge-count.ics", &len);
    char err[256];

    (void)state;
    assert_int_equal(parse_fails(data, len, &lim, err, sizeof err), CRM_CAL_TOO_MANY_OCCURRENCES);
    assert_non_null(strstr(err, "flood-1@example.com"));
    assert_non_null(strstr(err, "5000"));
    g_free(data);
}

/* libical would search second by second inside one call, for minutes */
static void rules_by_the_second_or_minute_are_refused(void **state)
{
    static const char secondly[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:sec@x\r\nDTSTART:19000101T090000Z\r\n"
        "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    static const char hourly[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:hour@x\r\nDTSTART:19000101T090000Z\r\n"
        "RRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    crm_cal_limits lim = window(1709251200, 1714521600);
    char err[256];

    (void)state;
    assert_int_equal(parse_fails(secondly, sizeof secondly - 1, &lim, err, sizeof err),
                     CRM_CAL_TOO_MANY_OCCURRENCES);
    assert_non_null(strstr(err, "sec@x: RRULE:FREQ=SECONDLY"));
    assert_int_equal(parse_fails(hourly, sizeof hourly - 1, &lim, err, sizeof err),
                     CRM_CAL_TOO_MANY_OCCURRENCES);
    assert_non_null(strstr(err, "no meeting's recurrence"));
}

/* libical expands a zone's rules inside one call: a minutely "zone"
 * would keep it busy for minutes. The zone is dropped, the time kept. */
static void time_zone_with_a_minutely_rule_is_not_expanded(void **state)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=MINUTELY\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=HOURLY\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:evil@x\r\nDTSTART;TZID=Evil:20240101T090000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:berlin@x\r\nDTSTART;TZID=Europe/Berlin:20240701T090000\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    crm_calendar *cal = NULL;
    char err[256];

    (void)state;
    assert_int_equal(crm_calendar_parse(ics, sizeof ics - 1, NULL, &cal, err, sizeof err),
                     CRM_CAL_OK);
    assert_true(by_uid(cal, "evil@x")->tz_unknown);
    assert_int_equal(by_uid(cal, "evil@x")->start, 1704099600);	/* read as UTC */
    /* the bogus definition is dropped, the name still means tzdata's zone */
    assert_false(by_uid(cal, "berlin@x")->tz_unknown);
    assert_int_equal(by_uid(cal, "berlin@x")->start, 1719817200);	/* 09:00 CEST */
    crm_calendar_free(cal);
}

static void rule_that_needs_too_many_steps_is_refused(void **state)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:minutely@x\r\nDTSTART:19900101T000000Z\r\n"
        "RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    crm_cal_limits lim = window(1709251200, 1714521600);
    char err[256];

    (void)state;
    lim.max_rrule_steps = 1000;
    assert_int_equal(parse_fails(ics, sizeof ics - 1, &lim, err, sizeof err),
                     CRM_CAL_TOO_MANY_OCCURRENCES);
    assert_non_null(strstr(err, "1000 steps"));
}

static void size_and_component_limits_are_enforced(void **state)
{
    crm_cal_limits lim;
    size_t len;
    char *data = fixture("outlook-weekly-dst.ics", &len);
    GString *many = g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    crm_calendar *cal = NULL;
    char err[256];

    (void)state;
    crm_cal_limits_default(&lim);
    lim.max_bytes = 1000;
    assert_int_equal(parse_fails(data, len, &lim, err, sizeof err), CRM_CAL_TOO_LARGE);
    assert_non_null(strstr(err, "limit 1000"));
    g_free(data);

    for (int i = 0; i < 200; i++)
        g_string_append_printf(many, "BEGIN:VEVENT\r\nUID:%d@x\r\nDTSTART:20240601T090000Z\r\n"
                               "END:VEVENT\r\n", i);
    g_string_append(many, "END:VCALENDAR\r\n");
    crm_cal_limits_default(&lim);
    lim.max_components = 100;
    assert_int_equal(parse_fails(many->str, many->len, &lim, err, sizeof err),
                     CRM_CAL_TOO_MANY_COMPONENTS);
    /* past the occurrence limit the rest are dropped, each named */
    crm_cal_limits_default(&lim);
    lim.max_occurrences = 50;
    assert_int_equal(crm_calendar_parse(many->str, many->len, &lim, &cal, err, sizeof err),
                     CRM_CAL_OK);
    assert_int_equal(cal->n_events, 50);
    assert_int_equal(cal->n_dropped, 150);
    assert_int_equal(cal->n_problems, CRM_CAL_MAX_PROBLEMS);
    assert_non_null(strstr(cal->problems[0], "more than 50 occurrences"));
    crm_calendar_free(cal);
    g_string_free(many, TRUE);
}

static void sniff_tells_icalendar_by_content(void **state)
{
    (void)state;
    assert_true(crm_calendar_sniff("BEGIN:VCALENDAR\r\n", 17));
    assert_true(crm_calendar_sniff("\xEF\xBB\xBF\r\nbegin:vcalendar\n", 21));
    assert_false(crm_calendar_sniff("From: a@b\r\n", 11));
    assert_false(crm_calendar_sniff("BEGIN:VCAL", 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outlook_weekly_meeting_keeps_local_time_across_dst),
        cmocka_unit_test(moved_occurrence_keeps_its_identity_and_exdate_drops_one),
        cmocka_unit_test(window_limits_the_occurrences_of_a_series),
        cmocka_unit_test(apple_meeting_in_new_york_across_the_fall_change),
        cmocka_unit_test(all_day_event_is_midnight_utc_with_its_days),
        cmocka_unit_test(google_export_with_exdates_in_new_york),
        cmocka_unit_test(custom_zone_name_from_its_vtimezone),
        cmocka_unit_test(several_events_and_a_date_only_event),
        cmocka_unit_test(cancelled_event_is_marked),
        cmocka_unit_test(floating_times_and_zone_names_nobody_declared),
        cmocka_unit_test(truncated_file_is_refused),
        cmocka_unit_test(event_without_dtstart_is_refused_with_its_uid),
        cmocka_unit_test(one_bad_event_does_not_spoil_the_others),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(unbalanced_begin_and_end_are_refused),
        cmocka_unit_test(huge_rrule_count_is_refused_at_the_occurrence_limit),
        cmocka_unit_test(rules_by_the_second_or_minute_are_refused),
        cmocka_unit_test(time_zone_with_a_minutely_rule_is_not_expanded),
        cmocka_unit_test(rule_that_needs_too_many_steps_is_refused),
        cmocka_unit_test(size_and_component_limits_are_enforced),
        cmocka_unit_test(sniff_tells_icalendar_by_content),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
