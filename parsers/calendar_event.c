/*
 * NAME
 *	calendar_event 3 - parse iCalendar (RFC 5545) into meeting occurrences
 * DESCRIPTION
 *	See calendar_event.h for the contract and the time zone policy.
 *	libical parses and knows time zones and RRULE arithmetic; this file
 *	bounds what libical is given (bytes, components), walks the result,
 *	expands recurrences itself so that every loop has a named limit, and
 *	copies what the CRM needs into plain structs. It must never hand
 *	libical input it has not bounded, and never print.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <libical/ical.h>

#include "calendar_event.h"

/* Outlook names zones by their Windows names; its VTIMEZONE usually
 * comes along, but a bare TZID does happen (forwarded invites, other
 * exporters copying Outlook's TZID). The common ones, from CLDR's
 * windowsZones.xml "001" territory. */
static const struct {
    const char *windows, *iana;
} windows_zones[] = {
    { "W. Europe Standard Time", "Europe/Berlin" },
    { "Central Europe Standard Time", "Europe/Budapest" },
    { "Central European Standard Time", "Europe/Warsaw" },
    { "Romance Standard Time", "Europe/Paris" },
    { "GMT Standard Time", "Europe/London" },
    { "Greenwich Standard Time", "Atlantic/Reykjavik" },
    { "FLE Standard Time", "Europe/Kiev" },
    { "GTB Standard Time", "Europe/Bucharest" },
    { "E. Europe Standard Time", "Europe/Chisinau" },
    { "Russian Standard Time", "Europe/Moscow" },
    { "Turkey Standard Time", "Europe/Istanbul" },
    { "Israel Standard Time", "Asia/Jerusalem" },
    { "South Africa Standard Time", "Africa/Johannesburg" },
    { "Arabian Standard Time", "Asia/Dubai" },
    { "India Standard Time", "Asia/Kolkata" },
    { "China Standard Time", "Asia/Shanghai" },
    { "Singapore Standard Time", "Asia/Singapore" },
    { "Tokyo Standard Time", "Asia/Tokyo" },
    { "Korea Standard Time", "Asia/Seoul" },
    { "AUS Eastern Standard Time", "Australia/Sydney" },
    { "New Zealand Standard Time", "Pacific/Auckland" },
    { "Eastern Standard Time", "America/New_York" },
    { "Central Standard Time", "America/Chicago" },
    { "Mountain Standard Time", "America/Denver" },
    { "US Mountain Standard Time", "America/Phoenix" },
    { "Pacific Standard Time", "America/Los_Angeles" },
    { "Alaskan Standard Time", "America/Anchorage" },
    { "Hawaiian Standard Time", "Pacific/Honolulu" },
    { "Atlantic Standard Time", "America/Halifax" },
    { "E. South America Standard Time", "America/Sao_Paulo" },
    { "Argentina Standard Time", "America/Buenos_Aires" },
    { "Mexico Standard Time", "America/Mexico_City" },
    { "Central America Standard Time", "America/Guatemala" },
};

/* Meeting services whose links in a DESCRIPTION are the meeting's. */
static const char *const meeting_hosts[] = {
    "zoom.us", "meet.google.com", "teams.microsoft.com", "teams.live.com", "webex.com",
    "whereby.com", "gotomeeting.com", "meet.jit.si", "chime.aws", "bluejeans.com",
};

/* Vendor properties holding the join link, in order of trust. */
static const char *const conference_props[] = {
    "X-GOOGLE-CONFERENCE", "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-MICROSOFT-ONLINEMEETINGCONFLINK", "X-MICROSOFT-ONLINEMEETINGEXTERNALLINK",
};

/* Years outside this range are a broken generator, not a meeting. */
#define MIN_YEAR 1900
#define MAX_YEAR 2200
#define DAY 86400

typedef struct ctx {
    const crm_cal_limits *lim;
    int64_t win_start, win_end;
    icaltimezone *utc;
    icaltimezone *default_zone;	/* floating times; NULL: UTC */
    GArray *events;		/* crm_cal_event */
    GPtrArray *problems;	/* char* */
    size_t n_dropped;
    crm_cal_status first_problem;
    char *method;
    char *prodid;
} ctx;

/* A DTSTART-like value resolved: what it says and where it is. */
typedef struct rtime {
    struct icaltimetype tt;	/* as written, zone attached when known */
    icaltimezone *zone;		/* NULL: UTC or floating read in UTC */
    int64_t utc;
    bool all_day, floating, tz_unknown;
} rtime;

static GOnce init_once = G_ONCE_INIT;

static gpointer do_init(gpointer unused)
{
    (void)unused;
    /* libical's default may be to abort() on a parse error */
    icalerror_set_errors_are_fatal(0);
    return NULL;
}

void crm_calendar_init(void)
{
    g_once(&init_once, do_init, NULL);
}

void crm_cal_limits_default(crm_cal_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->max_bytes = CRM_CAL_DEFAULT_MAX_BYTES;
    lim->max_components = CRM_CAL_DEFAULT_MAX_COMPONENTS;
    lim->max_occurrences = CRM_CAL_DEFAULT_MAX_OCCURRENCES;
    lim->max_rrule_steps = CRM_CAL_DEFAULT_MAX_RRULE_STEPS;
    lim->max_attendees = CRM_CAL_DEFAULT_MAX_ATTENDEES;
    lim->max_text_bytes = CRM_CAL_DEFAULT_MAX_TEXT_BYTES;
}

const char *crm_cal_status_str(crm_cal_status st)
{
    switch (st) {
    case CRM_CAL_OK: return "ok";
    case CRM_CAL_TOO_LARGE: return "calendar too large";
    case CRM_CAL_TOO_MANY_COMPONENTS: return "too many calendar components";
    case CRM_CAL_TOO_MANY_OCCURRENCES: return "recurrence expands to too many occurrences";
    case CRM_CAL_NOT_A_CALENDAR: return "not an iCalendar object";
    case CRM_CAL_BAD_EVENT: return "invalid event";
    case CRM_CAL_NOMEM: return "out of memory";
    }
    return "unknown status";
}

static crm_cal_status fail(crm_cal_status st, char *err, size_t errlen, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static crm_cal_status fail(crm_cal_status st, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        g_vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- sniffing and pre-parse bounds ---------------------------------- */

static const char *skip_bom_and_blank(const char *p, const char *end)
{
    if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    while (p < end && (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t'))
        p++;
    return p;
}

bool crm_calendar_sniff(const char *data, size_t len)
{
    static const char tag[] = "BEGIN:VCALENDAR";
    const char *p = skip_bom_and_blank(data, data + len);

    return (size_t)(data + len - p) >= sizeof tag - 1 &&
           g_ascii_strncasecmp(p, tag, sizeof tag - 1) == 0;
}

/* BEGIN/END lines are counted, and their nesting checked, before
 * libical builds a tree: a flood of components costs one pass over the
 * bytes, not memory, and an END before its BEGIN (which libical reports
 * on stderr by itself) is refused here with a reason. Folded lines start
 * with a blank, so only real BEGIN/END lines count. */
static size_t name_len(const char *p, const char *end)
{
    const char *q = p;

    while (q < end && *q != '\r' && *q != '\n' && *q != ' ' && *q != '\t')
        q++;
    return (size_t)(q - p);
}

/* A line naming BEGIN or END other than as "BEGIN:" / "END:". */
static bool loose_begin_end(const char *p, const char *end)
{
    const char *q = p;
    size_t n;

    while (q < end && *q != ':' && *q != ';' && *q != '\r' && *q != '\n')
        q++;
    n = (size_t)(q - p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (!((n == 5 && g_ascii_strncasecmp(p, "BEGIN", 5) == 0) ||
          (n == 3 && g_ascii_strncasecmp(p, "END", 3) == 0)))
        return false;
    /* "END" alone, "END;X=Y:", "END :" */
    return q == end || *q != ':' || n != (size_t)(q - p);
}

static crm_cal_status check_structure(const char *s, size_t len, unsigned max,
                                      char *err, size_t errlen)
{
    typedef struct { const char *name; size_t len; } open_comp;
    GArray *open = g_array_new(FALSE, FALSE, sizeof(open_comp));
    const char *end = s + len;
    crm_cal_status st = CRM_CAL_OK;
    unsigned n = 0;

    for (size_t i = 0; i + 4 <= len && st == CRM_CAL_OK; i++) {
        if (i > 0 && s[i - 1] != '\n')
            continue;
        /* libical reads "END ;X=Y:..." as an END too */
        if (loose_begin_end(s + i, end)) {
            st = fail(CRM_CAL_NOT_A_CALENDAR, err, errlen,
                      "not iCalendar: malformed BEGIN or END line at byte %zu", i);
        } else if (i + 6 <= len && g_ascii_strncasecmp(s + i, "BEGIN:", 6) == 0) {
            open_comp c = { s + i + 6, name_len(s + i + 6, end) };
            if (++n > max)
                st = fail(CRM_CAL_TOO_MANY_COMPONENTS, err, errlen,
                          "more than %u calendar components (limit %u)", max, max);
            g_array_append_val(open, c);
        } else if (g_ascii_strncasecmp(s + i, "END:", 4) == 0) {
            const char *name = s + i + 4;
            size_t nl = name_len(name, end);
            open_comp *top = open->len > 0 ? &g_array_index(open, open_comp, open->len - 1) : NULL;
            if (top == NULL)
                st = fail(CRM_CAL_NOT_A_CALENDAR, err, errlen,
                          "not iCalendar: END:%.*s at byte %zu without its BEGIN",
                          (int)MIN(nl, 64), name, i);
            else if (top->len != nl || g_ascii_strncasecmp(top->name, name, nl) != 0)
                st = fail(CRM_CAL_NOT_A_CALENDAR, err, errlen,
                          "not iCalendar: END:%.*s at byte %zu while BEGIN:%.*s is open",
                          (int)MIN(nl, 64), name, i, (int)MIN(top->len, 64), top->name);
            else
                g_array_set_size(open, open->len - 1);
        }
    }
    if (st == CRM_CAL_OK && open->len > 0)
        st = fail(CRM_CAL_NOT_A_CALENDAR, err, errlen, "not iCalendar: %u BEGIN without END",
                  open->len);
    g_array_free(open, TRUE);
    return st;
}

/* A truncated file still parses into something with libical; refuse
 * it instead of storing half a meeting. */
static bool ends_with_end_vcalendar(const char *s, size_t len)
{
    static const char tag[] = "END:VCALENDAR";
    size_t n = sizeof tag - 1;

    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ' ||
                       s[len - 1] == '\t'))
        len--;
    return len >= n && g_ascii_strncasecmp(s + len - n, tag, n) == 0 &&
           (len == n || s[len - n - 1] == '\n');
}

/* ---- small helpers --------------------------------------------------- */

/* Valid UTF-8, at most max bytes, cut on a character boundary. */
static char *clean_text(const char *s, size_t max, bool *truncated)
{
    char *v, *out;
    size_t len;

    if (s == NULL)
        return NULL;
    v = g_utf8_make_valid(s, -1);
    len = strlen(v);
    if (len <= max)
        return v;
    while (max > 0 && ((unsigned char)v[max] & 0xC0) == 0x80)
        max--;
    out = g_strndup(v, max);
    g_free(v);
    if (truncated != NULL)
        *truncated = true;
    return out;
}

static char *upper_or_null(const char *s)
{
    char *v, *u;

    if (s == NULL || *s == '\0')
        return NULL;
    v = g_utf8_make_valid(s, -1);
    u = g_ascii_strup(g_strstrip(v), -1);
    g_free(v);
    if (*u == '\0') {
        g_free(u);
        return NULL;
    }
    return u;
}

static char *param_upper(icalproperty *p, const char *name)
{
    char *v = icalproperty_get_parameter_as_string_r(p, name);
    char *u = upper_or_null(v);

    free(v);
    return u;
}

/* "mailto:a@b" -> "a@b"; NULL for other URIs (urn:uuid, http). */
static char *mailto_address(const char *uri)
{
    char *v;

    if (uri == NULL)
        return NULL;
    while (*uri == ' ')
        uri++;
    if (g_ascii_strncasecmp(uri, "mailto:", 7) != 0)
        return NULL;
    v = g_utf8_make_valid(uri + 7, -1);
    g_strstrip(v);
    if (*v == '\0' || strchr(v, '@') == NULL) {
        g_free(v);
        return NULL;
    }
    return v;
}

static char *prop_string(icalproperty *p)
{
    char *v = icalproperty_get_value_as_string_r(p);
    char *out = v != NULL ? g_utf8_make_valid(v, -1) : NULL;

    free(v);
    if (out != NULL && *g_strstrip(out) == '\0')
        g_clear_pointer(&out, g_free);
    return out;
}

static bool host_is_meeting_service(const char *host, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(meeting_hosts); i++) {
        size_t n = strlen(meeting_hosts[i]);
        if (len == n && g_ascii_strncasecmp(host, meeting_hosts[i], n) == 0)
            return true;
        if (len > n && host[len - n - 1] == '.' &&
            g_ascii_strncasecmp(host + len - n, meeting_hosts[i], n) == 0)
            return true;
    }
    return false;
}

/* The first https:// link in text (of a meeting service only, when
 * known_only), trailing punctuation left out. */
static char *find_link(const char *text, bool known_only)
{
    const char *p = text;

    while (p != NULL && (p = strstr(p, "https://")) != NULL) {
        const char *host = p + 8, *h = host, *e = p;
        size_t len;

        while (*h && *h != '/' && *h != ':' && *h != '?' && *h != '#' &&
               !g_ascii_isspace(*h) && *h != '>' && *h != '"')
            h++;
        while (*e && !g_ascii_isspace(*e) && *e != '<' && *e != '>' && *e != '"' &&
               *e != '\'' && *e != ']')
            e++;
        while (e > host && strchr(".,;:)", e[-1]) != NULL)
            e--;
        len = (size_t)(e - p);
        if (h > host && (!known_only || host_is_meeting_service(host, (size_t)(h - host))))
            return g_strndup(p, len);
        p += 8;
    }
    return NULL;
}

static char *conference_url(icalcomponent *ev, const char *location, const char *description)
{
    icalproperty *p;
    char *url;

    p = icalcomponent_get_first_property(ev, ICAL_CONFERENCE_PROPERTY);
    if (p != NULL && (url = prop_string(p)) != NULL)
        return url;
    for (size_t i = 0; i < G_N_ELEMENTS(conference_props); i++) {
        for (p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); p != NULL;
             p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
            const char *name = icalproperty_get_x_name(p);
            if (name != NULL && g_ascii_strcasecmp(name, conference_props[i]) == 0 &&
                (url = prop_string(p)) != NULL)
                return url;
        }
    }
    if (location != NULL && (url = find_link(location, false)) != NULL)
        return url;
    if (description != NULL && (url = find_link(description, true)) != NULL)
        return url;
    return NULL;
}

/* ---- time zones ------------------------------------------------------ */

static icaltimezone *zone_by_name(icalcomponent *vcal, const char *tzid)
{
    icaltimezone *z;

    if (tzid == NULL || *tzid == '\0')
        return NULL;
    if (vcal != NULL && (z = icalcomponent_get_timezone(vcal, tzid)) != NULL)
        return z;
    if (g_ascii_strcasecmp(tzid, "UTC") == 0 || g_ascii_strcasecmp(tzid, "GMT") == 0 ||
        g_ascii_strcasecmp(tzid, "Etc/UTC") == 0 || g_ascii_strcasecmp(tzid, "Z") == 0)
        return icaltimezone_get_utc_timezone();
    if ((z = icaltimezone_get_builtin_timezone(tzid)) != NULL)
        return z;
    for (size_t i = 0; i < G_N_ELEMENTS(windows_zones); i++) {
        if (g_ascii_strcasecmp(tzid, windows_zones[i].windows) == 0)
            return icaltimezone_get_builtin_timezone(windows_zones[i].iana);
    }
    /* "/mozilla.org/20050126_1/Europe/Berlin", "/freeassociation.../Europe/Berlin":
     * old Thunderbird and libical itself prefix the Olson name */
    for (const char *s = strchr(tzid, '/'); s != NULL; s = strchr(s + 1, '/')) {
        if (s[1] != '\0' && (z = icaltimezone_get_builtin_timezone(s + 1)) != NULL)
            return z;
    }
    return NULL;
}

static const char *prop_tzid(icalproperty *p)
{
    icalparameter *par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);

    return par != NULL ? icalparameter_get_tzid(par) : NULL;
}

static bool sane_time(struct icaltimetype tt)
{
    return !icaltime_is_null_time(tt) && icaltime_is_valid_time(tt) &&
           tt.year >= MIN_YEAR && tt.year <= MAX_YEAR && tt.month >= 1 && tt.month <= 12 &&
           tt.day >= 1 && tt.day <= 31;
}

/* Read tt (the value of property p) as an instant, by the policy in
 * calendar_event.h. */
static bool resolve(const ctx *c, icalcomponent *vcal, icalproperty *p,
                    struct icaltimetype tt, rtime *out)
{
    const char *tzid = p != NULL ? prop_tzid(p) : NULL;

    memset(out, 0, sizeof *out);
    if (!sane_time(tt))
        return false;
    out->tt = tt;
    if (tt.is_date) {
        out->all_day = true;
        out->zone = NULL;
        out->utc = (int64_t)icaltime_as_timet_with_zone(tt, c->utc);
        return true;
    }
    if (icaltime_is_utc(tt)) {
        out->zone = c->utc;
    } else if (tzid != NULL) {
        out->zone = zone_by_name(vcal, tzid);
        if (out->zone == NULL) {
            out->tz_unknown = true;
            out->floating = true;
            out->zone = c->default_zone;
        }
    } else {
        out->floating = true;
        out->zone = c->default_zone;
    }
    if (out->zone == NULL)
        out->zone = c->utc;
    out->tt = icaltime_set_timezone(&out->tt, out->zone);
    out->utc = (int64_t)icaltime_as_timet_with_zone(tt, out->zone);
    return true;
}

/* ---- events ---------------------------------------------------------- */

static void attendee_clear(crm_cal_attendee *a)
{
    g_free(a->email);
    g_free(a->name);
    g_free(a->partstat);
    g_free(a->role);
    g_free(a->cutype);
}

static void event_clear(crm_cal_event *e)
{
    g_free(e->uid);
    g_free(e->summary);
    g_free(e->description);
    g_free(e->location);
    g_free(e->tzid);
    g_free(e->status);
    g_free(e->method);
    g_free(e->conference_url);
    g_free(e->organizer_email);
    g_free(e->organizer_name);
    for (size_t i = 0; i < e->n_attendees; i++)
        attendee_clear(&e->attendees[i]);
    g_free(e->attendees);
    memset(e, 0, sizeof *e);
}

static void event_copy(const crm_cal_event *src, crm_cal_event *dst)
{
    *dst = *src;
    dst->uid = g_strdup(src->uid);
    dst->summary = g_strdup(src->summary);
    dst->description = g_strdup(src->description);
    dst->location = g_strdup(src->location);
    dst->tzid = g_strdup(src->tzid);
    dst->status = g_strdup(src->status);
    dst->method = g_strdup(src->method);
    dst->conference_url = g_strdup(src->conference_url);
    dst->organizer_email = g_strdup(src->organizer_email);
    dst->organizer_name = g_strdup(src->organizer_name);
    dst->attendees = g_new0(crm_cal_attendee, src->n_attendees ? src->n_attendees : 1);
    for (size_t i = 0; i < src->n_attendees; i++) {
        const crm_cal_attendee *a = &src->attendees[i];
        dst->attendees[i] = (crm_cal_attendee){
            g_strdup(a->email), g_strdup(a->name), g_strdup(a->partstat),
            g_strdup(a->role), g_strdup(a->cutype),
        };
    }
}

static void problem(ctx *c, crm_cal_status st, const char *uid, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void problem(ctx *c, crm_cal_status st, const char *uid, const char *fmt, ...)
{
    va_list ap;
    char *why;

    c->n_dropped++;
    if (c->first_problem == CRM_CAL_OK)
        c->first_problem = st;
    if (c->problems->len >= CRM_CAL_MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(c->problems, uid != NULL ? g_strdup_printf("event %s: %s", uid, why)
                                             : g_strdup_printf("event without UID: %s", why));
    g_free(why);
}

static const char *event_uid(icalcomponent *ev)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_UID_PROPERTY);
    const char *uid = p != NULL ? icalproperty_get_uid(p) : NULL;

    return uid != NULL && *uid != '\0' ? uid : NULL;
}

static void read_people(const ctx *c, icalcomponent *ev, crm_cal_event *e)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
    GArray *list = g_array_new(FALSE, TRUE, sizeof(crm_cal_attendee));

    if (p != NULL) {
        char *cn = icalproperty_get_parameter_as_string_r(p, "CN");
        e->organizer_email = mailto_address(icalproperty_get_organizer(p));
        e->organizer_name = clean_text(cn, 1024, NULL);
        free(cn);
    }
    for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
        crm_cal_attendee a = { 0 };
        char *cn;

        if (list->len >= c->lim->max_attendees) {
            e->attendees_truncated = true;
            break;
        }
        cn = icalproperty_get_parameter_as_string_r(p, "CN");
        a.email = mailto_address(icalproperty_get_attendee(p));
        a.name = clean_text(cn, 1024, NULL);
        free(cn);
        a.partstat = param_upper(p, "PARTSTAT");
        a.role = param_upper(p, "ROLE");
        a.cutype = param_upper(p, "CUTYPE");
        g_array_append_val(list, a);
    }
    e->n_attendees = list->len;
    e->attendees = (crm_cal_attendee *)g_array_free(list, FALSE);
}

static char *text_prop(const ctx *c, icalcomponent *ev, icalproperty_kind kind, bool *truncated)
{
    icalproperty *p = icalcomponent_get_first_property(ev, kind);
    const char *v;
    char *out;

    if (p == NULL)
        return NULL;
    /* TEXT values come back unescaped (\n, \, and \; decoded) */
    v = icalvalue_get_text(icalproperty_get_value(p));
    out = clean_text(v, c->lim->max_text_bytes, truncated);
    if (out != NULL && *g_strstrip(out) == '\0')
        g_clear_pointer(&out, g_free);
    return out;
}

/* The duration of one occurrence, seconds: DTEND - DTSTART, else
 * DURATION, else a day for all-day events and nothing otherwise. */
static int64_t event_duration(const ctx *c, icalcomponent *vcal, icalcomponent *ev,
                              const rtime *start)
{
    icalproperty *p;
    rtime end;

    p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    if (p != NULL && resolve(c, vcal, p, icalproperty_get_dtend(p), &end) && end.utc >= start->utc)
        return end.utc - start->utc;
    p = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
    if (p != NULL) {
        int d = icaldurationtype_as_int(icalproperty_get_duration(p));
        if (d >= 0)
            return d;
    }
    return start->all_day ? DAY : 0;
}

/* Everything but the times: the template of every occurrence. */
static bool read_event(ctx *c, icalcomponent *vcal, icalcomponent *ev, crm_cal_event *e,
                       rtime *start, int64_t *duration)
{
    const char *uid = event_uid(ev);
    icalproperty *p;

    memset(e, 0, sizeof *e);
    if (uid == NULL) {
        problem(c, CRM_CAL_BAD_EVENT, NULL, "no UID");
        return false;
    }
    p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    if (p == NULL) {
        problem(c, CRM_CAL_BAD_EVENT, uid, "no DTSTART");
        return false;
    }
    if (!resolve(c, vcal, p, icalproperty_get_dtstart(p), start)) {
        problem(c, CRM_CAL_BAD_EVENT, uid, "DTSTART is not a valid date (years %d-%d)",
                MIN_YEAR, MAX_YEAR);
        return false;
    }
    e->uid = clean_text(uid, 1024, NULL);
    if (prop_tzid(p) != NULL)
        e->tzid = clean_text(prop_tzid(p), 256, NULL);
    e->all_day = start->all_day;
    e->floating = start->floating;
    e->tz_unknown = start->tz_unknown;
    *duration = event_duration(c, vcal, ev, start);
    e->start = start->utc;
    e->end = start->utc + *duration;

    p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);
    e->sequence = p != NULL ? icalproperty_get_sequence(p) : 0;
    if (e->sequence < 0)
        e->sequence = 0;
    e->summary = text_prop(c, ev, ICAL_SUMMARY_PROPERTY, &e->text_truncated);
    e->description = text_prop(c, ev, ICAL_DESCRIPTION_PROPERTY, &e->text_truncated);
    e->location = text_prop(c, ev, ICAL_LOCATION_PROPERTY, &e->text_truncated);
    p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
    if (p != NULL) {
        char *s = prop_string(p);
        e->status = upper_or_null(s);
        g_free(s);
    }
    e->method = g_strdup(c->method);
    e->cancelled = (e->status != NULL && strcmp(e->status, "CANCELLED") == 0) ||
                   (c->method != NULL && strcmp(c->method, "CANCEL") == 0);
    e->conference_url = conference_url(ev, e->location, e->description);
    read_people(c, ev, e);
    return true;
}

static bool read_recurrence_id(const ctx *c, icalcomponent *vcal, icalcomponent *ev,
                               int64_t *rid)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
    rtime t;

    if (p == NULL || !resolve(c, vcal, p, icalproperty_get_recurrenceid(p), &t))
        return false;
    *rid = t.utc;
    return true;
}

static bool has_recurrence(icalcomponent *ev)
{
    return icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY) != NULL ||
           icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY) != NULL;
}

static gint cmp_i64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static bool in_window(const ctx *c, int64_t t)
{
    return t >= c->win_start && t < c->win_end;
}

/* libical looks for a rule's next instance in steps of its FREQ, inside
 * one call that no step limit of ours can stop: FREQ=SECONDLY;BYMONTH=12
 * spends a minute reaching December, FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30
 * ten seconds never finding it (measured, libical 3.0.16). Meetings do
 * not recur by the second or the minute, nor hourly within chosen
 * dates; daily and longer rules cost milliseconds even when impossible. */
static bool rule_is_cheap(const struct icalrecurrencetype *r)
{
    if (r->freq == ICAL_SECONDLY_RECURRENCE || r->freq == ICAL_MINUTELY_RECURRENCE)
        return false;
    if (r->freq != ICAL_HOURLY_RECURRENCE)
        return true;
    return r->by_month[0] == ICAL_RECURRENCE_ARRAY_MAX &&
           r->by_month_day[0] == ICAL_RECURRENCE_ARRAY_MAX &&
           r->by_year_day[0] == ICAL_RECURRENCE_ARRAY_MAX &&
           r->by_week_no[0] == ICAL_RECURRENCE_ARRAY_MAX &&
           r->by_set_pos[0] == ICAL_RECURRENCE_ARRAY_MAX &&
           r->by_day[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

/* Starts of the series within the window (UTC, sorted, unique), or
 * false with a problem recorded. */
static bool series_starts(ctx *c, icalcomponent *vcal, icalcomponent *ev, const char *uid,
                          const rtime *dtstart, GArray *starts)
{
    unsigned budget = c->lim->max_occurrences - (unsigned)c->events->len;
    icalproperty *p;
    GArray *ex = g_array_new(FALSE, FALSE, sizeof(int64_t));
    guint keep = 0;

    /* DTSTART is always the first instance (RFC 5545 3.8.5.3) */
    if (in_window(c, dtstart->utc))
        g_array_append_val(starts, dtstart->utc);
    for (p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY)) {
        struct icalrecurrencetype rule = icalproperty_get_rrule(p);
        icalrecur_iterator *it;
        unsigned steps = 0;

        if (rule.freq == ICAL_NO_RECURRENCE)
            continue;		/* unreadable rule: the DTSTART instance stays */
        if (!rule_is_cheap(&rule)) {
            g_array_free(ex, TRUE);
            problem(c, CRM_CAL_TOO_MANY_OCCURRENCES, uid,
                    "RRULE:%s is no meeting's recurrence (by the second or minute, or by the "
                    "hour with date filters)", icalrecurrencetype_as_string(&rule));
            return false;
        }
        it = icalrecur_iterator_new(rule, dtstart->tt);
        if (it == NULL)
            continue;
        for (;;) {
            struct icaltimetype next = icalrecur_iterator_next(it);
            int64_t t;

            if (icaltime_is_null_time(next))
                break;
            if (++steps > c->lim->max_rrule_steps) {
                icalrecur_iterator_free(it);
                g_array_free(ex, TRUE);
                problem(c, CRM_CAL_TOO_MANY_OCCURRENCES, uid,
                        "recurrence needs more than %u steps to reach the window",
                        c->lim->max_rrule_steps);
                return false;
            }
            t = (int64_t)icaltime_as_timet_with_zone(next, dtstart->all_day ? c->utc : dtstart->zone);
            if (t >= c->win_end)
                break;
            if (t < c->win_start)
                continue;
            g_array_append_val(starts, t);
            if (starts->len > budget) {
                icalrecur_iterator_free(it);
                g_array_free(ex, TRUE);
                problem(c, CRM_CAL_TOO_MANY_OCCURRENCES, uid,
                        "recurrence expands to more than %u occurrences in the window",
                        c->lim->max_occurrences);
                return false;
            }
        }
        icalrecur_iterator_free(it);
    }
    for (p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
        struct icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
        struct icaltimetype tt = !icaltime_is_null_time(rd.time) ? rd.time : rd.period.start;
        rtime t;

        if (resolve(c, vcal, p, tt, &t) && in_window(c, t.utc)) {
            g_array_append_val(starts, t.utc);
            if (starts->len > budget) {
                g_array_free(ex, TRUE);
                problem(c, CRM_CAL_TOO_MANY_OCCURRENCES, uid,
                        "recurrence expands to more than %u occurrences in the window",
                        c->lim->max_occurrences);
                return false;
            }
        }
    }
    for (p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
        rtime t;
        if (resolve(c, vcal, p, icalproperty_get_exdate(p), &t)) {
            /* an all-day EXDATE of a timed series drops that day's instance */
            if (t.all_day && !dtstart->all_day) {
                int64_t offset = ((dtstart->utc % DAY) + DAY) % DAY;
                t.utc += offset;
            }
            g_array_append_val(ex, t.utc);
        }
    }
    g_array_sort(starts, cmp_i64);
    for (guint i = 0; i < starts->len; i++) {
        int64_t t = g_array_index(starts, int64_t, i);
        bool excluded = keep > 0 && g_array_index(starts, int64_t, keep - 1) == t;
        for (guint k = 0; k < ex->len && !excluded; k++)
            excluded = g_array_index(ex, int64_t, k) == t;
        if (!excluded)
            g_array_index(starts, int64_t, keep++) = t;
    }
    g_array_set_size(starts, keep);
    g_array_free(ex, TRUE);
    return true;
}

static void emit(ctx *c, crm_cal_event *e)
{
    g_array_append_val(c->events, *e);
    memset(e, 0, sizeof *e);
}

static bool budget_left(ctx *c, const char *uid)
{
    if (c->events->len < c->lim->max_occurrences)
        return true;
    problem(c, CRM_CAL_TOO_MANY_OCCURRENCES, uid, "more than %u occurrences in the calendar",
            c->lim->max_occurrences);
    return false;
}

/* An override (a component with RECURRENCE-ID) as its own occurrence. */
static void emit_override(ctx *c, icalcomponent *vcal, icalcomponent *ov, int64_t rid)
{
    crm_cal_event e;
    rtime start;
    int64_t dur;

    if (!read_event(c, vcal, ov, &e, &start, &dur))
        return;
    if (!budget_left(c, e.uid)) {
        event_clear(&e);
        return;
    }
    e.has_recurrence_id = true;
    e.recurrence_id = rid;
    e.is_override = true;
    emit(c, &e);
}

/* One UID: its master (no RECURRENCE-ID) and its overrides. */
static void process_uid(ctx *c, icalcomponent *vcal, GPtrArray *comps)
{
    icalcomponent *master = NULL;
    GArray *ov_rids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GPtrArray *ov = g_ptr_array_new();
    GArray *starts;
    crm_cal_event tmpl;
    rtime dtstart;
    int64_t dur;

    for (guint i = 0; i < comps->len; i++) {
        icalcomponent *ev = g_ptr_array_index(comps, i);
        int64_t rid;

        if (icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY) == NULL) {
            /* two masters of one UID: the later SEQUENCE wins */
            if (master == NULL || icalcomponent_get_sequence(ev) > icalcomponent_get_sequence(master))
                master = ev;
        } else if (read_recurrence_id(c, vcal, ev, &rid)) {
            g_array_append_val(ov_rids, rid);
            g_ptr_array_add(ov, ev);
        } else {
            problem(c, CRM_CAL_BAD_EVENT, event_uid(ev), "RECURRENCE-ID is not a valid date");
        }
    }

    if (master == NULL || !has_recurrence(master)) {
        if (master != NULL && read_event(c, vcal, master, &tmpl, &dtstart, &dur)) {
            if (budget_left(c, tmpl.uid))
                emit(c, &tmpl);
            else
                event_clear(&tmpl);
        }
        for (guint i = 0; i < ov->len; i++)
            emit_override(c, vcal, g_ptr_array_index(ov, i), g_array_index(ov_rids, int64_t, i));
        goto out;
    }

    if (!read_event(c, vcal, master, &tmpl, &dtstart, &dur))
        goto out;
    starts = g_array_new(FALSE, FALSE, sizeof(int64_t));
    if (series_starts(c, vcal, master, tmpl.uid, &dtstart, starts)) {
        bool *used = g_new0(bool, ov->len ? ov->len : 1);

        for (guint i = 0; i < starts->len; i++) {
            int64_t t = g_array_index(starts, int64_t, i);
            guint k;

            for (k = 0; k < ov->len; k++) {
                if (g_array_index(ov_rids, int64_t, k) == t)
                    break;
            }
            if (k < ov->len) {
                used[k] = true;
                emit_override(c, vcal, g_ptr_array_index(ov, k), t);
            } else if (budget_left(c, tmpl.uid)) {
                crm_cal_event e;
                event_copy(&tmpl, &e);
                e.has_recurrence_id = true;
                e.recurrence_id = t;
                e.start = t;
                e.end = t + dur;
                emit(c, &e);
            }
        }
        /* overrides of instances outside the window, or moved into it */
        for (guint k = 0; k < ov->len; k++) {
            icalcomponent *o = g_ptr_array_index(ov, k);
            icalproperty *p = icalcomponent_get_first_property(o, ICAL_DTSTART_PROPERTY);
            rtime os;
            int64_t rid = g_array_index(ov_rids, int64_t, k);

            if (used[k])
                continue;
            if (in_window(c, rid) ||
                (p != NULL && resolve(c, vcal, p, icalproperty_get_dtstart(p), &os) &&
                 in_window(c, os.utc)))
                emit_override(c, vcal, o, rid);
        }
        g_free(used);
    }
    g_array_free(starts, TRUE);
    event_clear(&tmpl);
out:
    g_array_free(ov_rids, TRUE);
    g_ptr_array_free(ov, TRUE);
}

static size_t by_count_n(const short *by, size_t size)
{
    size_t n = 0;

    while (n < size && by[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    return n;
}
#define by_count(arr) by_count_n((arr), G_N_ELEMENTS(arr))

/* RDATEs of one zone; tzdata exports list a few dozen historic ones. */
#define MAX_TZ_RDATES 2000

/* Zone rules are yearly by month and weekday or day (RFC 5545 3.6.5, and
 * every tzdata export). libical expands a zone's rules from their DTSTART
 * (1601 in Outlook's) up to the year asked for, inside one call: a
 * minutely or by-the-hour rule kept it busy for minutes (measured). */
static bool zone_is_cheap(icalcomponent *tz)
{
    unsigned rdates = 0;

    for (icalcomponent *obs = icalcomponent_get_first_component(tz, ICAL_ANY_COMPONENT);
         obs != NULL; obs = icalcomponent_get_next_component(tz, ICAL_ANY_COMPONENT)) {
        for (icalproperty *p = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY);
             p != NULL; p = icalcomponent_get_next_property(obs, ICAL_RRULE_PROPERTY)) {
            struct icalrecurrencetype r = icalproperty_get_rrule(p);
            /* at most a few changes a year: "BYMONTH=3;BYDAY=-1SU", or
             * Apple's older "BYMONTH=4;BYMONTHDAY=1,...,7;BYDAY=SU" */
            if (r.freq != ICAL_YEARLY_RECURRENCE || by_count(r.by_month) > 2 ||
                by_count(r.by_month_day) > 7 || by_count(r.by_day) > 7 ||
                r.by_second[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                r.by_minute[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                r.by_hour[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                r.by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                r.by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX)
                return false;
        }
        rdates += icalcomponent_count_properties(obs, ICAL_RDATE_PROPERTY);
        if (rdates > MAX_TZ_RDATES)
            return false;
    }
    return true;
}

/* A zone libical could not expand cheaply is dropped before any time is
 * read: its TZID then resolves by name (tzdata, Windows names) or reads
 * as floating, flagged tz_unknown. */
static void drop_costly_zones(icalcomponent *vcal)
{
    GPtrArray *bad = g_ptr_array_new();

    for (icalcomponent *tz = icalcomponent_get_first_component(vcal, ICAL_VTIMEZONE_COMPONENT);
         tz != NULL; tz = icalcomponent_get_next_component(vcal, ICAL_VTIMEZONE_COMPONENT)) {
        if (!zone_is_cheap(tz))
            g_ptr_array_add(bad, tz);
    }
    for (guint i = 0; i < bad->len; i++) {
        icalcomponent *tz = g_ptr_array_index(bad, i);
        icalcomponent_remove_component(vcal, tz);
        icalcomponent_free(tz);
    }
    g_ptr_array_free(bad, TRUE);
}

static void process_vcalendar(ctx *c, icalcomponent *vcal)
{
    GHashTable *by_uid = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                               (GDestroyNotify)g_ptr_array_unref);
    GPtrArray *order = g_ptr_array_new();	/* UIDs in order of appearance */
    icalproperty *p;
    icalcomponent *ev;

    drop_costly_zones(vcal);
    p = icalcomponent_get_first_property(vcal, ICAL_METHOD_PROPERTY);
    if (p != NULL && c->method == NULL) {
        char *m = prop_string(p);
        c->method = upper_or_null(m);
        g_free(m);
    }
    p = icalcomponent_get_first_property(vcal, ICAL_PRODID_PROPERTY);
    if (p != NULL && c->prodid == NULL)
        c->prodid = prop_string(p);

    for (ev = icalcomponent_get_first_component(vcal, ICAL_VEVENT_COMPONENT); ev != NULL;
         ev = icalcomponent_get_next_component(vcal, ICAL_VEVENT_COMPONENT)) {
        const char *uid = event_uid(ev);
        GPtrArray *list;

        if (uid == NULL) {
            problem(c, CRM_CAL_BAD_EVENT, NULL, "no UID");
            continue;
        }
        list = g_hash_table_lookup(by_uid, uid);
        if (list == NULL) {
            list = g_ptr_array_new();
            g_hash_table_insert(by_uid, (gpointer)uid, list);
            g_ptr_array_add(order, (gpointer)uid);
        }
        g_ptr_array_add(list, ev);
    }
    for (guint i = 0; i < order->len; i++)
        process_uid(c, vcal, g_hash_table_lookup(by_uid, g_ptr_array_index(order, i)));
    g_ptr_array_free(order, TRUE);
    g_hash_table_destroy(by_uid);
}

crm_cal_status crm_calendar_parse(const char *data, size_t len, const crm_cal_limits *lim_in,
                                  crm_calendar **out, char *err, size_t errlen)
{
    crm_cal_limits lim;
    ctx c = { 0 };
    char *text;
    icalcomponent *root;
    crm_calendar *cal;
    crm_cal_status st;
    unsigned n;
    int64_t now;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    crm_calendar_init();
    if (lim_in != NULL)
        lim = *lim_in;
    else
        crm_cal_limits_default(&lim);
    if (len > lim.max_bytes)
        return fail(CRM_CAL_TOO_LARGE, err, errlen, "calendar of %zu bytes (limit %zu)",
                    len, lim.max_bytes);
    if (!crm_calendar_sniff(data, len))
        return fail(CRM_CAL_NOT_A_CALENDAR, err, errlen,
                    "not iCalendar: does not start with BEGIN:VCALENDAR");
    if (memchr(data, '\0', len) != NULL)
        return fail(CRM_CAL_NOT_A_CALENDAR, err, errlen, "not iCalendar: binary data (NUL byte)");
    if (!ends_with_end_vcalendar(data, len))
        return fail(CRM_CAL_NOT_A_CALENDAR, err, errlen,
                    "truncated iCalendar: no END:VCALENDAR at the end");
    if ((st = check_structure(data, len, lim.max_components, err, errlen)) != CRM_CAL_OK)
        return st;

    now = (int64_t)time(NULL);
    c.lim = &lim;
    c.win_start = lim.window_start;
    c.win_end = lim.window_end;
    if (c.win_start == 0 && c.win_end == 0) {
        c.win_start = now - (int64_t)CRM_CAL_DEFAULT_PAST_DAYS * DAY;
        c.win_end = now + (int64_t)CRM_CAL_DEFAULT_FUTURE_DAYS * DAY;
    }
    c.utc = icaltimezone_get_utc_timezone();
    c.default_zone = lim.default_tzid != NULL ? zone_by_name(NULL, lim.default_tzid) : NULL;

    text = g_strndup(data, len);
    icalerror_clear_errno();
    root = icalparser_parse_string(text);
    g_free(text);
    if (root == NULL)
        return fail(CRM_CAL_NOT_A_CALENDAR, err, errlen, "not iCalendar: %s",
                    icalerrno != ICAL_NO_ERROR ? icalerror_strerror(icalerrno)
                                               : "libical could read no component");

    c.events = g_array_new(FALSE, TRUE, sizeof(crm_cal_event));
    c.problems = g_ptr_array_new_with_free_func(g_free);
    n = 0;
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
        process_vcalendar(&c, root);
        n = 1;
    } else if (icalcomponent_isa(root) == ICAL_XROOT_COMPONENT) {
        /* several VCALENDARs in one file */
        for (icalcomponent *v = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             v != NULL; v = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT)) {
            process_vcalendar(&c, v);
            n++;
        }
    }
    icalcomponent_free(root);

    if (n == 0 || (c.events->len == 0 && c.n_dropped > 0)) {
        st = n == 0 ? CRM_CAL_NOT_A_CALENDAR : c.first_problem;
        if (n == 0)
            fail(st, err, errlen, "not iCalendar: no VCALENDAR component");
        else
            fail(st, err, errlen, "%s", (const char *)g_ptr_array_index(c.problems, 0));
        for (guint i = 0; i < c.events->len; i++)
            event_clear(&g_array_index(c.events, crm_cal_event, i));
        g_array_free(c.events, TRUE);
        g_ptr_array_free(c.problems, TRUE);
        g_free(c.method);
        g_free(c.prodid);
        return st;
    }

    cal = g_new0(crm_calendar, 1);
    cal->n_events = c.events->len;
    cal->events = (crm_cal_event *)g_array_free(c.events, FALSE);
    cal->n_problems = c.problems->len;
    g_ptr_array_set_free_func(c.problems, NULL);
    cal->problems = (char **)g_ptr_array_free(c.problems, FALSE);
    cal->n_dropped = c.n_dropped;
    cal->method = c.method;
    cal->prodid = c.prodid;
    *out = cal;
    return CRM_CAL_OK;
}

void crm_calendar_free(crm_calendar *cal)
{
    if (cal == NULL)
        return;
    for (size_t i = 0; i < cal->n_events; i++)
        event_clear(&cal->events[i]);
    g_free(cal->events);
    for (size_t i = 0; i < cal->n_problems; i++)
        g_free(cal->problems[i]);
    g_free(cal->problems);
    g_free(cal->method);
    g_free(cal->prodid);
    g_free(cal);
}
