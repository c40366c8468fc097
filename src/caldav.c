/*
 * NAME
 *	caldav 3 - a CalDAV client: find a user's calendars, read what changed
 * DESCRIPTION
 *	See caldav.h. One curl easy handle per client, reused so that the
 *	connection (and TLS session) stays open across the requests of one
 *	poll. Every answer is a WebDAV multistatus, walked with libxml2 by
 *	namespace and local name: servers differ in prefixes, never in those.
 *	Must never touch the database, never print.
 */
#include <stdarg.h>
#include <string.h>
#include <curl/curl.h>
#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "caldav.h"
#include "crmgate-build.h"

#define NS_DAV	"DAV:"
#define NS_CAL	"urn:ietf:params:xml:ns:caldav"
#define NS_CS	"http://calendarserver.org/ns/"
#define MAX_REDIRECTS 5

struct crm_caldav {
    CURL *curl;
    char *url;
    char *user, *password, *bearer;
    char *ca_file;		/* NULL: the system trust store */
    long timeout_s;
    size_t max_response;
    unsigned max_resources;
};

typedef struct response {
    long status;
    GByteArray *body;
    char *url;			/* effective, after redirects */
    size_t max;
    bool too_big;
} response;

static int errf(char *err, size_t errlen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        g_vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static GOnce curl_once = G_ONCE_INIT;

static gpointer curl_init_once(gpointer unused)
{
    (void)unused;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return NULL;
}

crm_caldav *crm_caldav_new(const crm_caldav_opts *o, char *err, size_t errlen)
{
    crm_caldav *dav;

    if (o->url == NULL || (g_ascii_strncasecmp(o->url, "http://", 7) != 0 &&
                           g_ascii_strncasecmp(o->url, "https://", 8) != 0)) {
        errf(err, errlen, "CalDAV URL must be http:// or https://");
        return NULL;
    }
    g_once(&curl_once, curl_init_once, NULL);
    dav = g_new0(crm_caldav, 1);
    dav->curl = curl_easy_init();
    if (dav->curl == NULL) {
        g_free(dav);
        errf(err, errlen, "curl_easy_init failed");
        return NULL;
    }
    dav->url = g_strdup(o->url);
    dav->user = g_strdup(o->user);
    dav->password = g_strdup(o->password);
    dav->bearer = g_strdup(o->bearer);
    dav->ca_file = g_strdup(o->ca_file);
    dav->timeout_s = o->timeout_s > 0 ? o->timeout_s : CRM_CALDAV_DEFAULT_TIMEOUT_S;
    dav->max_response = o->max_response_bytes > 0 ? o->max_response_bytes
                                                  : CRM_CALDAV_DEFAULT_MAX_RESPONSE;
    dav->max_resources = o->max_resources > 0 ? o->max_resources
                                              : CRM_CALDAV_DEFAULT_MAX_RESOURCES;
    return dav;
}

void crm_caldav_free(crm_caldav *dav)
{
    if (dav == NULL)
        return;
    curl_easy_cleanup(dav->curl);
    g_free(dav->url);
    g_free(dav->user);
    if (dav->password != NULL)
        memset(dav->password, 0, strlen(dav->password));
    g_free(dav->password);
    if (dav->bearer != NULL)
        memset(dav->bearer, 0, strlen(dav->bearer));
    g_free(dav->bearer);
    g_free(dav->ca_file);
    g_free(dav);
}

/* ---- HTTP ------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    response *r = ud;
    size_t n = size * nmemb;

    if (r->body->len + n > r->max) {
        r->too_big = true;
        return 0;		/* aborts the transfer */
    }
    g_byte_array_append(r->body, (const guint8 *)data, (guint)n);
    return n;
}

static void response_clear(response *r)
{
    if (r->body != NULL)
        g_byte_array_free(r->body, TRUE);
    g_free(r->url);
    memset(r, 0, sizeof *r);
}

/* One WebDAV request; any HTTP status is a success here, the caller
 * judges it. -1 only for transport failures. */
static int request(crm_caldav *dav, const char *method, const char *url, const char *depth,
                   const char *body, response *r, char *err, size_t errlen)
{
    CURL *c = dav->curl;
    struct curl_slist *h = NULL;
    char depth_hdr[32], *eff = NULL;
    CURLcode rc;

    memset(r, 0, sizeof *r);
    r->body = g_byte_array_new();
    r->max = dav->max_response;
    curl_easy_reset(c);
    h = curl_slist_append(h, "Content-Type: application/xml; charset=utf-8");
    if (depth != NULL) {
        g_snprintf(depth_hdr, sizeof depth_hdr, "Depth: %s", depth);
        h = curl_slist_append(h, depth_hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
    /* a redirect (/.well-known/caldav) must keep method and body */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, dav->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* a private CA (self-hosted servers); verification itself stays on */
    if (dav->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, dav->ca_file);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "crmgate-caldav/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (dav->bearer != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, dav->bearer);
    } else if (dav->user != NULL) {
        /* Basic or Digest, whichever the server offers; credentials are
         * not sent to another host on a redirect (curl's default) */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
        curl_easy_setopt(c, CURLOPT_USERNAME, dav->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, dav->password != NULL ? dav->password : "");
    }
    rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (r->too_big) {
        errf(err, errlen, "%s %s: answer larger than %zu bytes", method, url, r->max);
        response_clear(r);
        return -1;
    }
    if (rc != CURLE_OK) {
        errf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(rc));
        response_clear(r);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    r->url = g_strdup(eff != NULL ? eff : url);
    return 0;
}

static bool is_multistatus(const response *r)
{
    return r->status == 207;
}

static int status_error(const response *r, const char *method, const char *url,
                        char *err, size_t errlen)
{
    if (r->status == 401)
        return errf(err, errlen, "%s %s: 401 authentication failed", method, url);
    return errf(err, errlen, "%s %s: HTTP %ld", method, url, r->status);
}

/* ---- XML ------------------------------------------------------------- */

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next) {
        if (is_el(c, ns, name))
            return c;
    }
    return NULL;
}

/* Trimmed text content, g_malloc()ed, or NULL when empty. */
static char *text_of(const xmlNode *n)
{
    xmlChar *t;
    char *s;

    if (n == NULL)
        return NULL;
    t = xmlNodeGetContent(n);
    s = g_strdup(t != NULL ? (const char *)t : "");
    xmlFree(t);
    g_strstrip(s);
    if (*s == '\0') {
        g_free(s);
        return NULL;
    }
    return s;
}

/* "HTTP/1.1 200 OK" -> 200 */
static long status_code(const xmlNode *status)
{
    char *s = text_of(status);
    long code = 0;

    if (s != NULL) {
        const char *sp = strchr(s, ' ');
        code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
    }
    g_free(s);
    return code;
}

/* The property element ns:name of a response, from a propstat whose
 * status is 2xx, or NULL. */
static xmlNode *prop(const xmlNode *resp, const char *ns, const char *name)
{
    for (xmlNode *ps = resp->children; ps != NULL; ps = ps->next) {
        xmlNode *p;
        long st;

        if (!is_el(ps, NS_DAV, "propstat"))
            continue;
        st = status_code(child(ps, NS_DAV, "status"));
        if (st < 200 || st > 299)
            continue;
        if ((p = child(child(ps, NS_DAV, "prop"), ns, name)) != NULL)
            return p;
    }
    return NULL;
}

static xmlDoc *parse_xml(const response *r, const char *what, char *err, size_t errlen)
{
    /* no NOENT (no entity expansion), no DTD loading, no network */
    xmlDoc *doc = xmlReadMemory((const char *)r->body->data, (int)r->body->len, r->url, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

    if (root == NULL || !is_el(root, NS_DAV, "multistatus")) {
        if (doc != NULL)
            xmlFreeDoc(doc);
        errf(err, errlen, "%s %s: the answer is no WebDAV multistatus", what, r->url);
        return NULL;
    }
    return doc;
}

/* href made absolute against the URL it came from; g_malloc()ed. */
static char *absolute(const char *base, const char *href)
{
    CURLU *u = curl_url();
    char *out = NULL, *res = NULL;

    /* curl's effective URL after a redirect may carry the credentials:
     * a URL handed back (and stored by the caller) never does */
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, href, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        res = g_strdup(out);
        curl_free(out);
    }
    curl_url_cleanup(u);
    return res != NULL ? res : g_strdup(href);
}

/* The URL a property holding a DAV:href points to (absolute), or NULL. */
static char *href_prop(const response *r, const xmlNode *resp, const char *ns, const char *name)
{
    char *h = text_of(child(prop(resp, ns, name), NS_DAV, "href"));
    char *abs;

    if (h == NULL)
        return NULL;
    abs = absolute(r->url, h);
    g_free(h);
    return abs;
}

static unsigned count_responses(const xmlNode *root)
{
    unsigned n = 0;

    for (xmlNode *c = root->children; c != NULL; c = c->next)
        n += is_el(c, NS_DAV, "response");
    return n;
}

/* The document of a 207 Multi-Status answer: any other status is the
 * server's error; unreadable XML, or (many != NULL) more responses than
 * max_resources, an error of ours. NULL with err set and r cleared. */
static xmlDoc *multistatus_doc(const crm_caldav *dav, response *r, const char *what,
                               const char *url, const char *many, char *err, size_t errlen)
{
    xmlDoc *doc;

    if (!is_multistatus(r)) {
        status_error(r, what, url, err, errlen);
        response_clear(r);
        return NULL;
    }
    if ((doc = parse_xml(r, what, err, errlen)) == NULL) {
        response_clear(r);
        return NULL;
    }
    if (many != NULL && count_responses(xmlDocGetRootElement(doc)) > dav->max_resources) {
        errf(err, errlen, "%s %s: more than %u %s", what, url, dav->max_resources, many);
        xmlFreeDoc(doc);
        response_clear(r);
        return NULL;
    }
    return doc;
}

/* ---- discovery ------------------------------------------------------- */

static const char propfind_start[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"" NS_CAL "\" xmlns:cs=\"" NS_CS "\"><d:prop>"
    "<d:current-user-principal/><c:calendar-home-set/><d:resourcetype/>"
    "<d:displayname/><cs:getctag/><d:sync-token/>"
    "</d:prop></d:propfind>";

static const char propfind_home[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"" NS_CAL "\" xmlns:cs=\"" NS_CS "\"><d:prop>"
    "<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/>"
    "<c:supported-calendar-component-set/>"
    "</d:prop></d:propfind>";

static bool is_calendar(const xmlNode *resp)
{
    return child(prop(resp, NS_DAV, "resourcetype"), NS_CAL, "calendar") != NULL;
}

/* No component set given means any component (RFC 4791 section 5.2.3). */
static bool holds_events(const xmlNode *resp)
{
    xmlNode *set = prop(resp, NS_CAL, "supported-calendar-component-set");

    if (set == NULL)
        return true;
    for (xmlNode *c = set->children; c != NULL; c = c->next) {
        xmlChar *name;
        bool ev;

        if (!is_el(c, NS_CAL, "comp"))
            continue;
        name = xmlGetProp(c, (const xmlChar *)"name");
        ev = name != NULL && g_ascii_strcasecmp((const char *)name, "VEVENT") == 0;
        xmlFree(name);
        if (ev)
            return true;
    }
    return false;
}

static void calendar_from(const response *r, const xmlNode *resp, GArray *out)
{
    crm_caldav_calendar cal = { 0 };
    char *href = text_of(child(resp, NS_DAV, "href"));

    cal.url = absolute(r->url, href != NULL ? href : "");
    g_free(href);
    cal.name = text_of(prop(resp, NS_DAV, "displayname"));
    cal.ctag = text_of(prop(resp, NS_CS, "getctag"));
    cal.sync_token = text_of(prop(resp, NS_DAV, "sync-token"));
    g_array_append_val(out, cal);
}

/* PROPFIND Depth 0 with propfind_start: principal, home, or a calendar. */
static int probe(crm_caldav *dav, const char *url, char **principal, char **home,
                 GArray *cals, char *err, size_t errlen)
{
    response r;
    xmlDoc *doc;
    xmlNode *resp;

    if (request(dav, "PROPFIND", url, "0", propfind_start, &r, err, errlen) < 0)
        return -1;
    if ((doc = multistatus_doc(dav, &r, "PROPFIND", url, NULL, err, errlen)) == NULL)
        return -1;
    resp = child(xmlDocGetRootElement(doc), NS_DAV, "response");
    if (resp != NULL) {
        if (*principal == NULL)
            *principal = href_prop(&r, resp, NS_DAV, "current-user-principal");
        if (*home == NULL)
            *home = href_prop(&r, resp, NS_CAL, "calendar-home-set");
        if (is_calendar(resp) && holds_events(resp))
            calendar_from(&r, resp, cals);
    }
    xmlFreeDoc(doc);
    response_clear(&r);
    return 0;
}

static char *well_known(const char *url)
{
    CURLU *u = curl_url();
    char *out = NULL, *res = NULL;

    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PATH, "/.well-known/caldav", 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
        res = g_strdup(out);
        curl_free(out);
    }
    curl_url_cleanup(u);
    return res;
}

static int list_home(crm_caldav *dav, const char *home, GArray *cals, char *err, size_t errlen)
{
    response r;
    xmlDoc *doc;
    xmlNode *root;

    if (request(dav, "PROPFIND", home, "1", propfind_home, &r, err, errlen) < 0)
        return -1;
    if ((doc = multistatus_doc(dav, &r, "PROPFIND", home, "collections", err, errlen)) == NULL)
        return -1;
    root = xmlDocGetRootElement(doc);
    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        if (is_el(c, NS_DAV, "response") && is_calendar(c) && holds_events(c))
            calendar_from(&r, c, cals);
    }
    xmlFreeDoc(doc);
    response_clear(&r);
    return 0;
}

int crm_caldav_discover(crm_caldav *dav, crm_caldav_calendar **out, size_t *n,
                        char *err, size_t errlen)
{
    GArray *cals = g_array_new(FALSE, TRUE, sizeof(crm_caldav_calendar));
    char *principal = NULL, *home = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    rc = probe(dav, dav->url, &principal, &home, cals, err, errlen);
    if (rc == 0 && cals->len == 0 && principal == NULL && home == NULL) {
        char *wk = well_known(dav->url);
        char wkerr[256];
        /* a failing well-known URL says nothing more than the first answer */
        if (wk != NULL && probe(dav, wk, &principal, &home, cals, wkerr, sizeof wkerr) < 0)
            principal = NULL;
        g_free(wk);
    }
    if (rc == 0 && cals->len == 0 && home == NULL && principal != NULL)
        rc = probe(dav, principal, &principal, &home, cals, err, errlen);
    if (rc == 0 && cals->len == 0) {
        if (home == NULL)
            rc = errf(err, errlen, "%s: no calendar, principal or calendar home found", dav->url);
        else
            rc = list_home(dav, home, cals, err, errlen);
    }
    g_free(principal);
    g_free(home);
    if (rc < 0) {
        crm_caldav_calendars_free((crm_caldav_calendar *)(void *)cals->data, cals->len);
        g_array_free(cals, FALSE);
        return -1;
    }
    *n = cals->len;
    *out = (crm_caldav_calendar *)(void *)g_array_free(cals, FALSE);
    return 0;
}

void crm_caldav_calendars_free(crm_caldav_calendar *cals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_free(cals[i].url);
        g_free(cals[i].name);
        g_free(cals[i].ctag);
        g_free(cals[i].sync_token);
    }
    g_free(cals);
}

/* ---- changes --------------------------------------------------------- */

static char *xml_escape(const char *s)
{
    return g_markup_escape_text(s != NULL ? s : "", -1);
}

static void item_clear(crm_caldav_item *it)
{
    g_free(it->href);
    g_free(it->etag);
    g_free(it->data);
}

void crm_caldav_items_free(crm_caldav_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        item_clear(&items[i]);
    g_free(items);
}

void crm_caldav_changes_clear(crm_caldav_changes *ch)
{
    crm_caldav_items_free(ch->changed, ch->n_changed);
    for (size_t i = 0; i < ch->n_removed; i++)
        g_free(ch->removed[i]);
    g_free(ch->removed);
    g_free(ch->sync_token);
    memset(ch, 0, sizeof *ch);
}

/* The body names a precondition of RFC 6578 section 3.2 / RFC 3253. */
static bool body_mentions(const response *r, const char *what)
{
    return r->body->len > 0 &&
           g_strstr_len((const char *)r->body->data, (gssize)r->body->len, what) != NULL;
}

int crm_caldav_sync(crm_caldav *dav, const char *calendar_url, const char *sync_token,
                    crm_caldav_changes *out, char *err, size_t errlen)
{
    char *tok = xml_escape(sync_token), *body;
    GArray *changed = g_array_new(FALSE, TRUE, sizeof(crm_caldav_item));
    GPtrArray *removed = g_ptr_array_new();
    response r;
    xmlDoc *doc;
    xmlNode *root;

    memset(out, 0, sizeof *out);
    body = g_strdup_printf("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                           "<d:sync-collection xmlns:d=\"DAV:\">"
                           "<d:sync-token>%s</d:sync-token><d:sync-level>1</d:sync-level>"
                           "<d:prop><d:getetag/></d:prop></d:sync-collection>", tok);
    g_free(tok);
    if (request(dav, "REPORT", calendar_url, NULL, body, &r, err, errlen) < 0) {
        g_free(body);
        g_array_free(changed, TRUE);
        g_ptr_array_free(removed, TRUE);
        return -1;
    }
    g_free(body);
    if (!is_multistatus(&r)) {
        int rc;
        if ((r.status == 403 || r.status == 409) && body_mentions(&r, "valid-sync-token")) {
            out->token_invalid = true;
            rc = 0;
        } else if (r.status == 501 || r.status == 405 || r.status == 415 ||
                   (r.status == 403 && body_mentions(&r, "supported-report"))) {
            rc = CRM_CALDAV_UNSUPPORTED;
        } else {
            rc = status_error(&r, "REPORT sync-collection", calendar_url, err, errlen);
        }
        response_clear(&r);
        g_array_free(changed, TRUE);
        g_ptr_array_free(removed, TRUE);
        return rc;
    }
    if ((doc = multistatus_doc(dav, &r, "REPORT sync-collection", calendar_url,
                               "changes in one answer", err, errlen)) == NULL) {
        g_array_free(changed, TRUE);
        g_ptr_array_free(removed, TRUE);
        return -1;
    }
    root = xmlDocGetRootElement(doc);
    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        char *href;
        long st;

        if (!is_el(c, NS_DAV, "response"))
            continue;
        if ((href = text_of(child(c, NS_DAV, "href"))) == NULL)
            continue;
        st = status_code(child(c, NS_DAV, "status"));
        if (st == 404) {
            g_ptr_array_add(removed, href);
        } else if (child(c, NS_DAV, "propstat") != NULL) {
            crm_caldav_item it = { href, text_of(prop(c, NS_DAV, "getetag")), NULL, 0 };
            /* the collection itself may be listed: it has no etag */
            if (g_str_has_suffix(href, "/") && it.etag == NULL)
                item_clear(&it);
            else
                g_array_append_val(changed, it);
        } else {
            g_free(href);
        }
    }
    out->sync_token = text_of(child(root, NS_DAV, "sync-token"));
    xmlFreeDoc(doc);
    response_clear(&r);
    out->n_changed = changed->len;
    out->changed = (crm_caldav_item *)(void *)g_array_free(changed, FALSE);
    out->n_removed = removed->len;
    out->removed = (char **)g_ptr_array_free(removed, FALSE);
    if (out->sync_token == NULL) {
        crm_caldav_changes_clear(out);
        return errf(err, errlen, "REPORT %s: the answer carries no sync-token", calendar_url);
    }
    return 0;
}

int crm_caldav_list(crm_caldav *dav, const char *calendar_url, char **ctag,
                    crm_caldav_item **items, size_t *n, char *err, size_t errlen)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        "<d:propfind xmlns:d=\"DAV:\" xmlns:cs=\"" NS_CS "\"><d:prop>"
        "<d:getetag/><cs:getctag/><d:resourcetype/></d:prop></d:propfind>";
    GArray *list;
    response r;
    xmlDoc *doc;
    xmlNode *root;

    *ctag = NULL;
    *items = NULL;
    *n = 0;
    if (request(dav, "PROPFIND", calendar_url, "1", body, &r, err, errlen) < 0)
        return -1;
    if ((doc = multistatus_doc(dav, &r, "PROPFIND", calendar_url, "resources", err,
                               errlen)) == NULL)
        return -1;
    root = xmlDocGetRootElement(doc);
    list = g_array_new(FALSE, TRUE, sizeof(crm_caldav_item));
    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        if (!is_el(c, NS_DAV, "response"))
            continue;
        if (prop(c, NS_DAV, "resourcetype") != NULL &&
            child(prop(c, NS_DAV, "resourcetype"), NS_DAV, "collection") != NULL) {
            if (*ctag == NULL)
                *ctag = text_of(prop(c, NS_CS, "getctag"));
            continue;
        }
        crm_caldav_item it = { text_of(child(c, NS_DAV, "href")),
                               text_of(prop(c, NS_DAV, "getetag")), NULL, 0 };
        if (it.href != NULL)
            g_array_append_val(list, it);
        else
            item_clear(&it);
    }
    xmlFreeDoc(doc);
    response_clear(&r);
    *n = list->len;
    *items = (crm_caldav_item *)(void *)g_array_free(list, FALSE);
    return 0;
}

static int multiget_batch(crm_caldav *dav, const char *calendar_url, const char *const *hrefs,
                          size_t n, GArray *out, char *err, size_t errlen)
{
    GString *b = g_string_new("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                              "<c:calendar-multiget xmlns:d=\"DAV:\" xmlns:c=\"" NS_CAL "\">"
                              "<d:prop><d:getetag/><c:calendar-data/></d:prop>");
    response r;
    xmlDoc *doc;
    int rc;

    for (size_t i = 0; i < n; i++) {
        char *h = xml_escape(hrefs[i]);
        g_string_append_printf(b, "<d:href>%s</d:href>", h);
        g_free(h);
    }
    g_string_append(b, "</c:calendar-multiget>");
    rc = request(dav, "REPORT", calendar_url, "1", b->str, &r, err, errlen);
    g_string_free(b, TRUE);
    if (rc < 0)
        return -1;
    if ((doc = multistatus_doc(dav, &r, "REPORT calendar-multiget", calendar_url, NULL, err,
                               errlen)) == NULL)
        return -1;
    for (xmlNode *c = xmlDocGetRootElement(doc)->children; c != NULL; c = c->next) {
        crm_caldav_item it = { 0 };
        xmlNode *data;
        xmlChar *t;

        if (!is_el(c, NS_DAV, "response") || (data = prop(c, NS_CAL, "calendar-data")) == NULL)
            continue;		/* 404: gone since it was listed */
        it.href = text_of(child(c, NS_DAV, "href"));
        it.etag = text_of(prop(c, NS_DAV, "getetag"));
        /* the iCalendar text as is: no trimming, line ends matter */
        t = xmlNodeGetContent(data);
        it.data = g_strdup(t != NULL ? (const char *)t : "");
        it.len = strlen(it.data);
        xmlFree(t);
        if (it.href != NULL)
            g_array_append_val(out, it);
        else
            item_clear(&it);
    }
    xmlFreeDoc(doc);
    response_clear(&r);
    return 0;
}

int crm_caldav_multiget(crm_caldav *dav, const char *calendar_url, const char *const *hrefs,
                        size_t n_hrefs, crm_caldav_item **items, size_t *n,
                        char *err, size_t errlen)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(crm_caldav_item));

    *items = NULL;
    *n = 0;
    for (size_t i = 0; i < n_hrefs; i += CRM_CALDAV_MULTIGET_BATCH) {
        size_t k = MIN((size_t)CRM_CALDAV_MULTIGET_BATCH, n_hrefs - i);
        if (multiget_batch(dav, calendar_url, hrefs + i, k, out, err, errlen) < 0) {
            crm_caldav_items_free((crm_caldav_item *)(void *)out->data, out->len);
            g_array_free(out, FALSE);
            return -1;
        }
    }
    *n = out->len;
    *items = (crm_caldav_item *)(void *)g_array_free(out, FALSE);
    return 0;
}
