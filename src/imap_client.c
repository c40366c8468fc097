/*
 * NAME
 *	imap_client 3 - the IMAP conversation with one mailbox (libetpan)
 * DESCRIPTION
 *	See imap_client.h. libetpan speaks the protocol; this file adds
 *	what it leaves to its users: certificate verification (libetpan's
 *	TLS accepts any certificate), readable errors, and bounded waits.
 */
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "imap_client.h"
#include "log.h"

struct crm_imap {
    mailimap *imap;
    bool idling;
    size_t max_literal;
    bool cut;			/* we shut the socket: the server sent too much */
};

static const char *error_name(int r)
{
    switch (r) {
    case MAILIMAP_ERROR_STREAM: return "connection lost";
    case MAILIMAP_ERROR_PARSE: return "unparsable server response";
    case MAILIMAP_ERROR_CONNECTION_REFUSED: return "connection refused";
    case MAILIMAP_ERROR_MEMORY: return "out of memory";
    case MAILIMAP_ERROR_FATAL: return "server closed the connection";
    case MAILIMAP_ERROR_PROTOCOL: return "protocol error";
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: return "server refuses connections";
    case MAILIMAP_ERROR_LOGIN: return "login refused";
    case MAILIMAP_ERROR_SASL: return "authentication refused";
    case MAILIMAP_ERROR_STARTTLS: return "STARTTLS refused";
    case MAILIMAP_ERROR_SSL: return "TLS handshake failed";
    case MAILIMAP_ERROR_SELECT: return "SELECT refused";
    case MAILIMAP_ERROR_UID_SEARCH: return "UID SEARCH refused";
    case MAILIMAP_ERROR_UID_FETCH: return "UID FETCH refused";
    case MAILIMAP_ERROR_EXTENSION: return "extension not supported";
    default: return "IMAP error";
    }
}

/* "what: libetpan's error (the server's words)" */
static int imap_error(crm_imap *c, int r, const char *what, char *err, size_t errlen)
{
    const char *said = c != NULL && c->imap != NULL ? c->imap->imap_response : NULL;

    if (c != NULL && c->cut)
        return crm_err_set(err, errlen, "%s: the server sent more than %zu bytes at once; "
                           "connection cut", what, c->max_literal);
    if (said != NULL && *said)
        return crm_err_set(err, errlen, "%s: %s (server said: %.200s)", what, error_name(r), said);
    return crm_err_set(err, errlen, "%s: %s", what, error_name(r));
}

static bool ok(int r)
{
    return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
           r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

/* libetpan hands us the peer's chain and nothing else: check it against
 * the trust anchors and the host name we dialled, as a browser would. */
static int verify_peer(crm_imap *c, const crm_imap_account *a, char *err, size_t errlen)
{
    carray *chain = mailstream_get_certificate_chain(c->imap->imap_stream);
    gnutls_x509_trust_list_t trust = NULL;
    gnutls_x509_crt_t *certs = NULL;
    unsigned n = 0, status = 0;
    int rc = -1, r;

    if (chain == NULL || carray_count(chain) == 0) {
        crm_err_set(err, errlen, "%s: the server sent no certificate", a->host);
        goto out;
    }
    n = carray_count(chain);
    certs = g_new0(gnutls_x509_crt_t, n);
    for (unsigned i = 0; i < n; i++) {
        MMAPString *der = carray_get(chain, i);
        gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };
        if (gnutls_x509_crt_init(&certs[i]) < 0 ||
            gnutls_x509_crt_import(certs[i], &d, GNUTLS_X509_FMT_DER) < 0) {
            crm_err_set(err, errlen, "%s: unreadable certificate from the server", a->host);
            goto out;
        }
    }
    if (gnutls_x509_trust_list_init(&trust, 0) < 0)
        goto out;
    if (a->ca_file != NULL)
        r = gnutls_x509_trust_list_add_trust_file(trust, a->ca_file, NULL,
                                                  GNUTLS_X509_FMT_PEM, 0, 0);
    else
        r = gnutls_x509_trust_list_add_system_trust(trust, 0, 0);
    if (r <= 0) {
        crm_err_set(err, errlen, "no trusted certificates in %s",
                    a->ca_file != NULL ? a->ca_file : "the system's trust store");
        goto out;
    }
    gnutls_typed_vdata_st host = { GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)a->host, 0 };
    r = gnutls_x509_trust_list_verify_crt2(trust, certs, n, &host, 1, 0, &status, NULL);
    if (r < 0) {
        crm_err_set(err, errlen, "%s: verifying the certificate: %s", a->host,
                    gnutls_strerror(r));
        goto out;
    }
    if (status != 0) {
        gnutls_datum_t why = { NULL, 0 };
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
        crm_err_set(err, errlen, "%s: certificate not trusted: %s", a->host,
                    why.data != NULL ? (const char *)why.data : "unknown reason");
        gnutls_free(why.data);
        goto out;
    }
    rc = 0;
out:
    if (trust != NULL)
        gnutls_x509_trust_list_deinit(trust, 1);
    for (unsigned i = 0; certs != NULL && i < n; i++)
        if (certs[i] != NULL)
            gnutls_x509_crt_deinit(certs[i]);
    g_free(certs);
    if (chain != NULL)
        mailstream_certificate_chain_free(chain);
    return rc;
}

/* libetpan reports how far a literal has come; it would keep the whole
 * of whatever the server sends. Past the cap, shut the socket: the read
 * under way fails and the sync reconnects later. */
static void literal_progress(size_t current, size_t maximum, void *data)
{
    crm_imap *c = data;
    (void)maximum;

    if (c->max_literal > 0 && current > c->max_literal && !c->cut) {
        int fd = mailstream_low_get_fd(mailstream_get_low(c->imap->imap_stream));
        c->cut = true;
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
}

static void set_sni(struct mailstream_ssl_context *ctx, void *data)
{
    mailstream_ssl_set_server_name(ctx, (char *)data);
}

crm_imap *crm_imap_connect(const crm_imap_account *a, char *err, size_t errlen)
{
    crm_imap *c = g_new0(crm_imap, 1);
    uint16_t port = a->port ? a->port : a->security == CRM_IMAP_TLS ? 993 : 143;
    int r;

    c->imap = mailimap_new(0, NULL);
    if (c->imap == NULL) {
        g_free(c);
        crm_err_set(err, errlen, "out of memory");
        return NULL;
    }
    mailimap_set_timeout(c->imap, a->timeout_s > 0 ? a->timeout_s : 60);
    c->max_literal = a->max_literal;
    mailimap_set_progress_callback(c->imap, literal_progress, literal_progress, c);
    if (a->security == CRM_IMAP_TLS)
        r = mailimap_ssl_connect_with_callback(c->imap, a->host, port, set_sni, (void *)a->host);
    else
        r = mailimap_socket_connect(c->imap, a->host, port);
    if (!ok(r)) {
        crm_err_set(err, errlen, "connecting to %s:%u: %s", a->host, port, error_name(r));
        goto fail;
    }
    if (a->security == CRM_IMAP_STARTTLS) {
        r = mailimap_socket_starttls(c->imap);
        if (!ok(r)) {
            imap_error(c, r, "STARTTLS", err, errlen);
            goto fail;
        }
    }
    if (a->security != CRM_IMAP_PLAIN && verify_peer(c, a, err, errlen) < 0)
        goto fail;
    if (a->xoauth2)
        r = mailimap_oauth2_authenticate(c->imap, a->user, a->secret);
    else
        r = mailimap_login(c->imap, a->user, a->secret);
    if (!ok(r)) {
        char what[300];
        g_snprintf(what, sizeof what, "%s as %s", a->xoauth2 ? "XOAUTH2" : "LOGIN", a->user);
        imap_error(c, r, what, err, errlen);
        goto fail;
    }
    /* Capabilities change after login; IDLE is looked up in the new list. */
    {
        struct mailimap_capability_data *caps = NULL;
        if (ok(mailimap_capability(c->imap, &caps)) && caps != NULL)
            mailimap_capability_data_free(caps);
    }
    return c;
fail:
    mailimap_free(c->imap);
    g_free(c);
    return NULL;
}

void crm_imap_close(crm_imap *c)
{
    if (c == NULL)
        return;
    if (!c->idling)
        mailimap_logout(c->imap);
    mailimap_free(c->imap);
    g_free(c);
}

bool crm_imap_has_idle(crm_imap *c)
{
    return mailimap_has_idle(c->imap) != 0;
}

int crm_imap_select(crm_imap *c, const char *folder, crm_imap_folder *info,
                    char *err, size_t errlen)
{
    int r = mailimap_select(c->imap, folder);
    char what[300];

    memset(info, 0, sizeof *info);
    if (!ok(r)) {
        g_snprintf(what, sizeof what, "SELECT %s", folder);
        return imap_error(c, r, what, err, errlen);
    }
    if (c->imap->imap_selection_info != NULL) {
        info->uidvalidity = c->imap->imap_selection_info->sel_uidvalidity;
        info->uidnext = c->imap->imap_selection_info->sel_uidnext;
        info->exists = c->imap->imap_selection_info->sel_exists;
    }
    if (info->uidvalidity == 0)
        return crm_err_set(err, errlen, "SELECT %s: the server gave no UIDVALIDITY", folder);
    return 0;
}

static gint uid_cmp(gconstpointer a, gconstpointer b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

int crm_imap_uids_after(crm_imap *c, uint32_t after_uid, int64_t since, GArray **uids,
                        char *err, size_t errlen)
{
    struct mailimap_search_key *key;
    clist *result = NULL;
    int r;

    *uids = NULL;
    /* "n:*" always matches the highest UID, even when it is below n:
     * the results are filtered below as well. */
    key = mailimap_search_key_new_uid(mailimap_set_new_interval(after_uid + 1, 0));
    if (since > 0) {
        time_t t = (time_t)since;
        struct tm tm;
        struct mailimap_search_key *all = mailimap_search_key_new_multiple_empty();

        gmtime_r(&t, &tm);
        mailimap_search_key_multiple_add(all, key);
        mailimap_search_key_multiple_add(all, mailimap_search_key_new_since(
                                             mailimap_date_new(tm.tm_mday, tm.tm_mon + 1,
                                                               tm.tm_year + 1900)));
        key = all;
    }
    r = mailimap_uid_search(c->imap, NULL, key, &result);
    mailimap_search_key_free(key);
    if (!ok(r))
        return imap_error(c, r, "UID SEARCH", err, errlen);
    *uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        uint32_t uid = *(uint32_t *)clist_content(it);
        if (uid > after_uid)
            g_array_append_val(*uids, uid);
    }
    mailimap_search_result_free(result);
    g_array_sort(*uids, uid_cmp);
    return 0;
}

static struct mailimap_set *uid_set(const uint32_t *uids, size_t n)
{
    struct mailimap_set *set = mailimap_set_new_empty();

    for (size_t i = 0; i < n; i++)
        mailimap_set_add_single(set, uids[i]);
    return set;
}

/* The UID, size and body of one FETCH response. */
static void msg_att_fields(struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
                           const char **body, size_t *body_len)
{
    *uid = 0;
    *size = 0;
    *body = NULL;
    *body_len = 0;
    for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
        struct mailimap_msg_att_item *item = clist_content(it);
        struct mailimap_msg_att_static *s;

        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
            continue;
        s = item->att_data.att_static;
        switch (s->att_type) {
        case MAILIMAP_MSG_ATT_UID:
            *uid = s->att_data.att_uid;
            break;
        case MAILIMAP_MSG_ATT_RFC822_SIZE:
            *size = s->att_data.att_rfc822_size;
            break;
        case MAILIMAP_MSG_ATT_BODY_SECTION:
            if (s->att_data.att_body_section != NULL) {
                *body = s->att_data.att_body_section->sec_body_part;
                *body_len = s->att_data.att_body_section->sec_length;
            }
            break;
        default:
            break;
        }
    }
}

int crm_imap_sizes(crm_imap *c, const uint32_t *uids, size_t n, uint32_t *sizes,
                   char *err, size_t errlen)
{
    struct mailimap_fetch_type *ft;
    struct mailimap_set *set;
    clist *result = NULL;
    GHashTable *by_uid;
    int r;

    memset(sizes, 0, n * sizeof *sizes);
    if (n == 0)
        return 0;
    set = uid_set(uids, n);
    ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
    r = mailimap_uid_fetch(c->imap, set, ft, &result);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (!ok(r))
        return imap_error(c, r, "UID FETCH (RFC822.SIZE)", err, errlen);
    by_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        uint32_t uid, size;
        const char *body;
        size_t len;
        msg_att_fields(clist_content(it), &uid, &size, &body, &len);
        if (uid != 0)
            g_hash_table_insert(by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(size));
    }
    for (size_t i = 0; i < n; i++)
        sizes[i] = GPOINTER_TO_UINT(g_hash_table_lookup(by_uid, GUINT_TO_POINTER(uids[i])));
    g_hash_table_destroy(by_uid);
    mailimap_fetch_list_free(result);
    return 0;
}

int crm_imap_fetch(crm_imap *c, const uint32_t *uids, size_t n, crm_imap_message_fn fn,
                   void *ctx, char *err, size_t errlen)
{
    struct mailimap_fetch_type *ft;
    struct mailimap_set *set;
    clist *result = NULL;
    int r;

    if (n == 0)
        return 0;
    set = uid_set(uids, n);
    ft = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(
        ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
    r = mailimap_uid_fetch(c->imap, set, ft, &result);
    mailimap_fetch_type_free(ft);
    mailimap_set_free(set);
    if (!ok(r))
        return imap_error(c, r, "UID FETCH (BODY.PEEK[])", err, errlen);
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        uint32_t uid, size;
        const char *body;
        size_t len;
        msg_att_fields(clist_content(it), &uid, &size, &body, &len);
        /* unsolicited FETCH responses (flag changes) carry no body */
        if (uid != 0 && body != NULL)
            fn(ctx, uid, body, len);
    }
    mailimap_fetch_list_free(result);
    return 0;
}

int crm_imap_idle_start(crm_imap *c, char *err, size_t errlen)
{
    int r;

    if (mailstream_setup_idle(c->imap->imap_stream) < 0)
        return crm_err_set(err, errlen, "IDLE: cannot wait on this connection");
    r = mailimap_idle(c->imap);
    if (!ok(r)) {
        mailstream_unsetup_idle(c->imap->imap_stream);
        return imap_error(c, r, "IDLE", err, errlen);
    }
    c->idling = true;
    return 0;
}

int crm_imap_idle_wait(crm_imap *c, int wait_ms, char *err, size_t errlen)
{
    int secs = wait_ms <= 0 ? 0 : (wait_ms + 999) / 1000;

    switch (mailstream_wait_idle(c->imap->imap_stream, secs)) {
    case MAILSTREAM_IDLE_HASDATA:
        return 1;
    case MAILSTREAM_IDLE_TIMEOUT:
    case MAILSTREAM_IDLE_INTERRUPTED:
        return 0;
    default:
        return crm_err_set(err, errlen, "IDLE: connection lost");
    }
}

int crm_imap_idle_done(crm_imap *c, char *err, size_t errlen)
{
    int r;

    if (!c->idling)
        return 0;
    c->idling = false;
    mailstream_unsetup_idle(c->imap->imap_stream);
    r = mailimap_idle_done(c->imap);
    if (!ok(r))
        return imap_error(c, r, "IDLE DONE", err, errlen);
    return 0;
}
