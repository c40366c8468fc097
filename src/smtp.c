/*
 * NAME
 *	smtp 3 - the SMTP and LMTP dropbox listener
 * DESCRIPTION
 *	See smtp.h. GIO's threaded socket service accepts; each session is a
 *	plain loop of bounded line reads and replies. Replies are buffered
 *	and flushed before the session would block on the client, which is
 *	what PIPELINING asks of a server (RFC 2920).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gio/gio.h>

#include "auth_results.h"
#include "log.h"
#include "smtp.h"
#include "smtp_command.h"

#define MAX_BAD_COMMANDS	20
#define MAX_DATA_LINE		(1024 * 1024)	/* bytes of one DATA line kept */
#define LISTEN_BACKLOG		1024

/* What SIGHUP may change. A session copies them when it starts, so a
 * reload never changes the rules under a client in mid-session. */
typedef struct settings {
    char *hostname;
    size_t max_size;
    crm_parse_limits limits;
    unsigned max_connections, max_per_ip, max_recipients, timeout, data_timeout;
    GTlsCertificate *cert;	/* NULL: no STARTTLS */
} settings;

struct crm_smtp_server {
    GSocketService *service;
    GObject *lmtp_tag;		/* marks connections from the LMTP listener */
    crm_committer *committer;
    gint active;
    GMutex lock;		/* guards set and per_ip */
    settings set;
    GHashTable *per_ip;		/* client address -> sessions */
    gint queue_seq;
};

typedef struct session {
    crm_smtp_server *srv;
    settings set;		/* this session's copy */
    GSocket *sock;		/* for the timeout */
    GIOStream *io;		/* the connection, or its TLS wrapper */
    bool tls;
    bool lmtp;
    char peer[64];
    char inbuf[16384];
    size_t in_start, in_end;
    GString *out;
    bool greeted;
    char *helo;
    char *mail_from;		/* NULL: no transaction */
    GPtrArray *rcpts;		/* accepted recipient addresses */
    GPtrArray *rcpt_ws;		/* their workspace names */
    unsigned bad;
} session;

/* ---- I/O ------------------------------------------------------------ */

static bool flush(session *s)
{
    gsize written = 0;
    bool ok = g_output_stream_write_all(g_io_stream_get_output_stream(s->io), s->out->str,
                                        s->out->len, &written, NULL, NULL);

    g_string_truncate(s->out, 0);
    return ok;
}

static void reply(session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void reply(session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(s->out, fmt, ap);
    va_end(ap);
    g_string_append(s->out, "\r\n");
}

/* One line without its CRLF into line (at most max bytes kept; *too_long
 * says more came). 1: a line, 0: the client went away, -1: timeout.
 * Every read waits at most the session's timeout, and the whole line
 * must arrive within it too (or by deadline, when earlier; 0: none):
 * a client dripping a byte at a time cannot hold the session forever. */
static int read_line(session *s, GString *line, size_t max, bool *too_long, gint64 deadline)
{
    gint64 line_deadline = g_get_monotonic_time() + (gint64)s->set.timeout * G_USEC_PER_SEC;

    if (deadline == 0 || deadline > line_deadline)
        deadline = line_deadline;
    g_string_truncate(line, 0);
    *too_long = false;
    for (;;) {
        char *nl;
        size_t avail = s->in_end - s->in_start;

        nl = memchr(s->inbuf + s->in_start, '\n', avail);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (s->inbuf + s->in_start));
            if (line->len + n <= max)
                g_string_append_len(line, s->inbuf + s->in_start, (gssize)n);
            else
                *too_long = true;
            s->in_start += n + 1;
            if (line->len > 0 && line->str[line->len - 1] == '\r')
                g_string_truncate(line, line->len - 1);
            return 1;
        }
        if (line->len + avail <= max)
            g_string_append_len(line, s->inbuf + s->in_start, (gssize)avail);
        else
            *too_long = true;
        s->in_start = s->in_end = 0;
        /* about to wait for the client: everything answered so far goes out */
        if (s->out->len > 0 && !flush(s))
            return 0;
        if (g_get_monotonic_time() >= deadline)
            return -1;
        GError *e = NULL;
        gssize n = g_input_stream_read(g_io_stream_get_input_stream(s->io), s->inbuf,
                                       sizeof s->inbuf, NULL, &e);
        if (n <= 0) {
            int rc = e != NULL && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ? -1 : 0;
            g_clear_error(&e);
            return rc;
        }
        s->in_end = (size_t)n;
    }
}

/* ---- the transaction ------------------------------------------------- */

static void reset(session *s)
{
    g_clear_pointer(&s->mail_from, g_free);
    g_ptr_array_set_size(s->rcpts, 0);
    g_ptr_array_set_size(s->rcpt_ws, 0);
}

static void handle_rcpt(session *s, const crm_smtp_command *cmd)
{
    char *ws = NULL, *addr;
    int route;

    if (s->mail_from == NULL) {
        reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (s->rcpts->len >= s->set.max_recipients) {
        reply(s, "452 4.5.3 Error: too many recipients");
        return;
    }
    addr = g_ascii_strdown(cmd->path, -1);
    route = crm_committer_route(s->srv->committer, addr, &ws);
    if (route < 0) {
        reply(s, "451 4.3.0 <%s>: Temporary lookup failure, try again later", addr);
    } else if (route == 0) {
        reply(s, "550 5.1.1 <%s>: Recipient address rejected: not a dropbox of this gateway", addr);
    } else {
        g_ptr_array_add(s->rcpts, addr);
        g_ptr_array_add(s->rcpt_ws, ws);
        reply(s, "250 2.1.5 Ok");
        return;
    }
    g_free(addr);
    g_free(ws);
}

/* Read the message after 354; false when the session must end. */
static bool read_data(session *s, GString *msg, bool *oversize, bool *line_too_long)
{
    GString *line = g_string_new(NULL);
    bool too_long;
    int r;

    /* the whole message within smtp_data_timeout, however it trickles in */
    gint64 deadline = g_get_monotonic_time() + (gint64)s->set.data_timeout * G_USEC_PER_SEC;

    *oversize = *line_too_long = false;
    while ((r = read_line(s, line, MAX_DATA_LINE, &too_long, deadline)) == 1) {
        const char *p = line->str;
        size_t n = line->len;

        if (n == 1 && p[0] == '.')
            break;
        if (n > 0 && p[0] == '.') {	/* RFC 5321 4.5.2 dot-stuffing */
            p++;
            n--;
        }
        *line_too_long = *line_too_long || too_long;
        if (msg->len + n + 2 > s->set.max_size) {
            *oversize = true;		/* keep reading to the dot, keep nothing */
            continue;
        }
        g_string_append_len(msg, p, (gssize)n);
        g_string_append(msg, "\r\n");
    }
    g_string_free(line, TRUE);
    if (r == -1)
        reply(s, "421 4.4.2 %s Error: timeout exceeded", s->set.hostname);
    return r == 1;
}

static const char *status_reply(crm_delivery_status st)
{
    switch (st) {
    case CRM_DELIVERY_STORED: return "250 2.0.0 Ok: logged";
    case CRM_DELIVERY_DUPLICATE: return "250 2.0.0 Ok: already logged";
    case CRM_DELIVERY_SKIPPED: return "250 2.0.0 Ok: automatic mail, not logged";
    case CRM_DELIVERY_REJECTED: return "554 5.6.0 Error: message refused";
    case CRM_DELIVERY_TEMPFAIL: return "451 4.3.0 Error: temporary failure, try again later";
    case CRM_DELIVERY_UNTRUSTED: return "550 5.7.1 Error: sender not allowed";
    case CRM_DELIVERY_THROTTLED: return "250 2.0.0 Ok: not logged (loop breaker)";
    }
    return "451 4.3.0 Error";
}

static void deliver(session *s, const GString *raw, const char *qid)
{
    crm_message *msg = NULL;
    char err[512];
    crm_parse_status pst = crm_message_parse(raw->str, raw->len, &s->set.limits, &msg,
                                             err, sizeof err);
    GPtrArray *names = g_ptr_array_new();
    crm_delivery d = { 0 };
    crm_delivery_status worst = CRM_DELIVERY_STORED;
    GPtrArray *auth;
    const char *untrusted = NULL;

    if (pst != CRM_PARSE_OK) {
        crm_log(CRM_LOG_INFO, "%s: %s: refused: %s", s->lmtp ? "lmtp" : "smtp", qid, err);
        for (guint i = 0; i < (s->lmtp ? s->rcpts->len : 1); i++)
            reply(s, "554 5.6.0 Error: %s", err);
        g_ptr_array_free(names, TRUE);
        return;
    }
    for (guint i = 0; i < s->rcpt_ws->len; i++) {
        bool seen = false;
        for (guint k = 0; k < names->len && !seen; k++)
            seen = strcmp(names->pdata[k], s->rcpt_ws->pdata[i]) == 0;
        if (!seen)
            g_ptr_array_add(names, s->rcpt_ws->pdata[i]);
    }
    d.msg = msg;
    d.ref = qid;
    d.source = s->lmtp ? "lmtp" : "smtp";
    d.receive_time = (int64_t)time(NULL);
    d.workspaces = (const char *const *)names->pdata;
    d.n_workspaces = names->len;
    d.status = g_new0(crm_delivery_status, names->len);
    /* the dropbox's rules: who sent it, as the front MTA authenticated it */
    auth = g_ptr_array_new_with_free_func((GDestroyNotify)crm_auth_results_free);
    {
        GPtrArray *fields = crm_auth_results_fields(raw->str, raw->len);
        for (guint i = 0; i < fields->len; i++) {
            crm_auth_results *ar = crm_auth_results_parse(fields->pdata[i],
                                                          strlen(fields->pdata[i]));
            if (ar != NULL)
                g_ptr_array_add(auth, ar);
        }
        g_ptr_array_free(fields, TRUE);
    }
    d.envelope_from = s->mail_from;
    d.auth = (crm_auth_results *const *)auth->pdata;
    d.n_auth = auth->len;
    d.all_or_nothing = !s->lmtp;
    d.reasons = g_malloc0(sizeof *d.reasons * names->len);
    crm_committer_deliver(s->srv->committer, &d);

    for (guint k = 0; k < names->len; k++) {
        const char *why = d.reasons[k][0] ? d.reasons[k] : d.reason;
        crm_log(CRM_LOG_INFO, "%s: %s: workspace=%s from=<%s> size=%zu outcome=%s%s%s",
                d.source, qid, (char *)names->pdata[k], s->mail_from, raw->len,
                status_reply(d.status[k]) + 4, why[0] ? " reason=" : "", why);
        if (d.status[k] == CRM_DELIVERY_UNTRUSTED && untrusted == NULL)
            untrusted = why;
        /* one answer for SMTP: a temporary failure anywhere asks for a
         * retry (stored parts are then duplicates); refused everywhere
         * refuses it */
        if (d.status[k] == CRM_DELIVERY_TEMPFAIL ||
            (d.status[k] == CRM_DELIVERY_REJECTED && worst != CRM_DELIVERY_TEMPFAIL))
            worst = d.status[k];
    }
    if (worst == CRM_DELIVERY_REJECTED) {
        bool any_ok = false;
        for (guint k = 0; k < names->len; k++)
            any_ok = any_ok || d.status[k] != CRM_DELIVERY_REJECTED;
        if (any_ok)
            worst = CRM_DELIVERY_STORED;
    }
    if (s->lmtp) {
        for (guint i = 0; i < s->rcpts->len; i++) {
            guint k = 0;
            while (k < names->len && strcmp(names->pdata[k], s->rcpt_ws->pdata[i]) != 0)
                k++;
            if (d.status[k] == CRM_DELIVERY_UNTRUSTED)
                reply(s, "550 5.7.1 <%s>: %s", (char *)s->rcpts->pdata[i], d.reasons[k]);
            else
                reply(s, "%s <%s>", status_reply(d.status[k]), (char *)s->rcpts->pdata[i]);
        }
    } else if (untrusted != NULL) {
        /* one workspace refusing the sender refuses the whole mail, and
         * nothing of it was stored: never 250 and then dropped */
        reply(s, "550 5.7.1 %s", untrusted);
    } else if (worst == CRM_DELIVERY_STORED) {
        reply(s, "250 2.0.0 Ok: queued as %s", qid);
    } else {
        reply(s, "%s", status_reply(worst));
    }
    g_free(d.status);
    g_free(d.reasons);
    g_ptr_array_free(auth, TRUE);
    g_ptr_array_free(names, TRUE);
    crm_message_free(msg);
}

static void handle_data(session *s, bool *quit)
{
    GString *msg;
    bool oversize, too_long;
    char qid[32];

    if (s->mail_from == NULL) {
        reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (s->rcpts->len == 0) {
        reply(s, "554 5.5.1 Error: no valid recipients");
        return;
    }
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    msg = g_string_sized_new(65536);
    if (!read_data(s, msg, &oversize, &too_long)) {
        *quit = true;
        g_string_free(msg, TRUE);
        return;
    }
    g_snprintf(qid, sizeof qid, "%08lX%05X", (unsigned long)time(NULL),
               (unsigned)g_atomic_int_add(&s->srv->queue_seq, 1) & 0xFFFFF);
    if (oversize) {
        for (guint i = 0; i < (s->lmtp ? s->rcpts->len : 1); i++)
            reply(s, "552 5.3.4 Error: message exceeds fixed maximum message size");
        crm_log(CRM_LOG_INFO, "smtp: %s: refused: over %zu bytes", qid, s->set.max_size);
    } else if (too_long) {
        for (guint i = 0; i < (s->lmtp ? s->rcpts->len : 1); i++)
            reply(s, "554 5.6.0 Error: line too long");
    } else {
        deliver(s, msg, qid);
    }
    g_string_free(msg, TRUE);
    reset(s);
}

static void greet(session *s, const crm_smtp_command *cmd)
{
    g_free(s->helo);
    s->helo = g_strdup(cmd->domain);
    reset(s);
    s->greeted = true;
    if (cmd->verb == CRM_SMTP_HELO) {
        reply(s, "250 %s", s->set.hostname);
        return;
    }
    reply(s, "250-%s", s->set.hostname);
    reply(s, "250-PIPELINING");
    reply(s, "250-SIZE %zu", s->set.max_size);
    reply(s, "250-8BITMIME");
    if (s->set.cert != NULL && !s->tls && !s->lmtp)
        reply(s, "250-STARTTLS");
    reply(s, "250-ENHANCEDSTATUSCODES");
    reply(s, "250 SMTPUTF8");
}

/* RFC 3207: 220, then the handshake; the session starts over (no HELO,
 * no transaction) and bytes the client pipelined before it are dropped. */
static void starttls(session *s, bool *quit)
{
    GError *e = NULL;
    GIOStream *tls;

    if (s->set.cert == NULL || s->lmtp) {
        reply(s, "454 4.7.0 TLS not available");
        return;
    }
    if (s->tls) {
        reply(s, "503 5.5.1 Error: TLS already active");
        return;
    }
    reply(s, "220 2.0.0 Ready to start TLS");
    if (!flush(s)) {
        *quit = true;
        return;
    }
    tls = g_tls_server_connection_new(s->io, s->set.cert, &e);
    if (tls == NULL || !g_tls_connection_handshake(G_TLS_CONNECTION(tls), NULL, &e)) {
        crm_log(CRM_LOG_INFO, "smtp: %s: TLS handshake failed: %s", s->peer,
                e != NULL ? e->message : "no TLS backend (install glib-networking)");
        g_clear_error(&e);
        g_clear_object(&tls);
        *quit = true;
        return;
    }
    s->io = tls;		/* the session owns this reference */
    s->tls = true;
    s->in_start = s->in_end = 0;
    s->greeted = false;
    reset(s);
}

static void command(session *s, const GString *line, bool too_long, bool *quit)
{
    crm_smtp_command cmd;
    char err[128];
    crm_smtp_status st;

    if (too_long) {
        reply(s, "500 5.5.2 Error: line too long");
        s->bad++;
        return;
    }
    st = crm_smtp_parse(line->str, line->len, &cmd, err, sizeof err);
    if (st != CRM_SMTP_OK) {
        static const char *const codes[] = { "250", "500 5.5.1", "500 5.5.2", "501 5.5.4", "555 5.5.4" };
        reply(s, "%s Error: %s", codes[st], err);
        s->bad++;
        return;
    }
    switch (cmd.verb) {
    case CRM_SMTP_HELO:
    case CRM_SMTP_EHLO:
        if (s->lmtp)
            reply(s, "500 5.5.1 Error: this is LMTP: use LHLO");
        else
            greet(s, &cmd);
        break;
    case CRM_SMTP_LHLO:
        if (!s->lmtp)
            reply(s, "500 5.5.1 Error: this is SMTP: use EHLO");
        else
            greet(s, &cmd);
        break;
    case CRM_SMTP_MAIL:
        if (!s->greeted)
            reply(s, "503 5.5.1 Error: send %s first", s->lmtp ? "LHLO" : "HELO/EHLO");
        else if (s->mail_from != NULL)
            reply(s, "503 5.5.1 Error: nested MAIL command");
        else if (cmd.has_size && cmd.size > s->set.max_size)
            reply(s, "552 5.3.4 Error: message size exceeds fixed limit");
        else {
            s->mail_from = g_strdup(cmd.path);
            reply(s, "250 2.1.0 Ok");
        }
        break;
    case CRM_SMTP_RCPT:
        handle_rcpt(s, &cmd);
        break;
    case CRM_SMTP_DATA:
        handle_data(s, quit);
        break;
    case CRM_SMTP_RSET:
        reset(s);
        reply(s, "250 2.0.0 Ok");
        break;
    case CRM_SMTP_NOOP:
        reply(s, "250 2.0.0 Ok");
        break;
    case CRM_SMTP_QUIT:
        reply(s, "221 2.0.0 Bye");
        *quit = true;
        break;
    case CRM_SMTP_VRFY:
        reply(s, "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery");
        break;
    case CRM_SMTP_EXPN:
        reply(s, "502 5.5.1 Error: EXPN not supported");
        break;
    case CRM_SMTP_HELP:
        reply(s, "214 2.0.0 See RFC 5321");
        break;
    case CRM_SMTP_STARTTLS:
        starttls(s, quit);
        break;
    default:
        reply(s, "500 5.5.1 Error: command unrecognized");
        break;
    }
    crm_smtp_command_clear(&cmd);
}

/* ---- sessions and the service ---------------------------------------- */

static bool admit(crm_smtp_server *srv, const char *ip, const char **why)
{
    bool ok = true;

    g_mutex_lock(&srv->lock);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_ip, ip));
    if ((unsigned)g_atomic_int_get(&srv->active) > srv->set.max_connections) {
        *why = "421 4.3.2 Error: too many connections, try again later";
        ok = false;
    } else if (n >= srv->set.max_per_ip) {
        *why = "421 4.7.0 Error: too many connections from your address";
        ok = false;
    } else {
        g_hash_table_replace(srv->per_ip, g_strdup(ip), GUINT_TO_POINTER(n + 1));
    }
    g_mutex_unlock(&srv->lock);
    return ok;
}

static void leave(crm_smtp_server *srv, const char *ip)
{
    g_mutex_lock(&srv->lock);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(srv->per_ip, ip));
    if (n <= 1)
        g_hash_table_remove(srv->per_ip, ip);
    else
        g_hash_table_replace(srv->per_ip, g_strdup(ip), GUINT_TO_POINTER(n - 1));
    g_mutex_unlock(&srv->lock);
}

static gboolean on_connection(GThreadedSocketService *service, GSocketConnection *conn,
                              GObject *source, gpointer data)
{
    crm_smtp_server *srv = data;
    session s = { 0 };
    GSocketAddress *remote = g_socket_connection_get_remote_address(conn, NULL);
    GString *line = g_string_new(NULL);
    const char *why = NULL;
    bool quit = false, too_long;

    (void)service;
    g_atomic_int_inc(&srv->active);
    s.srv = srv;
    g_mutex_lock(&srv->lock);
    s.set = srv->set;
    s.set.hostname = g_strdup(srv->set.hostname);
    if (s.set.cert != NULL)
        g_object_ref(s.set.cert);
    g_mutex_unlock(&srv->lock);
    s.sock = g_socket_connection_get_socket(conn);
    s.io = G_IO_STREAM(conn);
    s.lmtp = source == srv->lmtp_tag;
    s.out = g_string_new(NULL);
    s.rcpts = g_ptr_array_new_with_free_func(g_free);
    s.rcpt_ws = g_ptr_array_new_with_free_func(g_free);
    g_strlcpy(s.peer, "unknown", sizeof s.peer);
    if (G_IS_INET_SOCKET_ADDRESS(remote)) {
        char *ip = g_inet_address_to_string(
            g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
        g_strlcpy(s.peer, ip, sizeof s.peer);
        g_free(ip);
    }
    g_clear_object(&remote);
    g_socket_set_timeout(s.sock, s.set.timeout);

    if (!admit(srv, s.peer, &why)) {
        reply(&s, "%s", why);
        flush(&s);
    } else {
        reply(&s, "220 %s %s crmgate", s.set.hostname, s.lmtp ? "LMTP" : "ESMTP");
        while (!quit) {
            int r = read_line(&s, line, CRM_SMTP_MAX_COMMAND, &too_long, 0);
            if (r == -1)
                reply(&s, "421 4.4.2 %s Error: timeout exceeded", s.set.hostname);
            if (r != 1)
                break;
            command(&s, line, too_long, &quit);
            if (s.bad >= MAX_BAD_COMMANDS) {
                reply(&s, "421 4.7.0 %s Error: too many errors", s.set.hostname);
                break;
            }
        }
        flush(&s);
        leave(srv, s.peer);
    }
    reset(&s);
    g_free(s.set.hostname);
    g_clear_object(&s.set.cert);
    g_free(s.helo);
    g_ptr_array_free(s.rcpts, TRUE);
    g_ptr_array_free(s.rcpt_ws, TRUE);
    g_string_free(s.out, TRUE);
    g_string_free(line, TRUE);
    if (s.tls) {
        g_io_stream_close(s.io, NULL, NULL);
        g_object_unref(s.io);
    }
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    g_atomic_int_dec_and_test(&srv->active);
    return TRUE;
}

static bool listen_on(crm_smtp_server *srv, const char *spec, GObject *tag, char *err, size_t errlen)
{
    GError *e = NULL;
    GSocketConnectable *addr = g_network_address_parse(spec, 0, &e);
    GSocketAddressEnumerator *en;
    GSocketAddress *sa;
    bool any = false;

    if (addr == NULL) {
        crm_err_set(err, errlen, "%s: %s", spec, e->message);
        g_error_free(e);
        return false;
    }
    en = g_socket_connectable_enumerate(addr);
    while ((sa = g_socket_address_enumerator_next(en, NULL, &e)) != NULL) {
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(srv->service), sa,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                           tag, NULL, &e)) {
            crm_err_set(err, errlen, "listening on %s: %s", spec, e->message);
            g_error_free(e);
            g_object_unref(sa);
            g_object_unref(en);
            g_object_unref(addr);
            return false;
        }
        any = true;
        g_object_unref(sa);
    }
    if (e != NULL) {
        crm_err_set(err, errlen, "%s: %s", spec, e->message);
        g_error_free(e);
    }
    g_object_unref(en);
    g_object_unref(addr);
    return any;
}

static void settings_clear(settings *set)
{
    g_free(set->hostname);
    g_clear_object(&set->cert);
    memset(set, 0, sizeof *set);
}

static int settings_from(settings *set, const crm_config *cfg, char *err, size_t errlen)
{
    char host[256];

    memset(set, 0, sizeof *set);
    if (cfg->hostname != NULL)
        set->hostname = g_strdup(cfg->hostname);
    else
        set->hostname = g_strdup(gethostname(host, sizeof host) == 0 ? host : "localhost");
    set->max_size = cfg->limits.max_message_bytes;
    set->limits = cfg->limits;
    set->max_connections = cfg->max_connections;
    set->max_per_ip = cfg->max_connections_per_ip;
    set->max_recipients = cfg->max_recipients;
    set->timeout = cfg->smtp_timeout;
    set->data_timeout = MAX(cfg->smtp_data_timeout, cfg->smtp_timeout);
    if (cfg->tls_cert != NULL) {
        GError *e = NULL;
        if (g_tls_backend_get_default() == NULL ||
            !g_tls_backend_supports_tls(g_tls_backend_get_default())) {
            settings_clear(set);
            return crm_err_set(err, errlen, "tls_cert is set but GIO has no TLS backend: "
                               "install the Debian package glib-networking");
        }
        set->cert = g_tls_certificate_new_from_files(cfg->tls_cert,
                                                     cfg->tls_key ? cfg->tls_key : cfg->tls_cert, &e);
        if (set->cert == NULL) {
            crm_err_set(err, errlen, "tls_cert %s: %s", cfg->tls_cert, e->message);
            g_error_free(e);
            settings_clear(set);
            return -1;
        }
    }
    return 0;
}

int crm_smtp_server_reconfigure(crm_smtp_server *srv, const crm_config *cfg,
                                char *err, size_t errlen)
{
    settings next, old;

    if (settings_from(&next, cfg, err, errlen) < 0)
        return -1;
    g_mutex_lock(&srv->lock);
    old = srv->set;
    srv->set = next;
    g_mutex_unlock(&srv->lock);
    settings_clear(&old);
    return 0;
}

crm_smtp_server *crm_smtp_server_new(const crm_config *cfg, crm_committer *committer,
                                     char *err, size_t errlen)
{
    crm_smtp_server *srv = g_new0(crm_smtp_server, 1);

    srv->committer = committer;
    srv->per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_mutex_init(&srv->lock);
    srv->lmtp_tag = g_object_new(G_TYPE_OBJECT, NULL);
    if (settings_from(&srv->set, cfg, err, errlen) < 0) {
        crm_smtp_server_free(srv);
        return NULL;
    }
    /* one more thread than sessions, so the one over the limit is told so */
    srv->service = g_threaded_socket_service_new((int)cfg->max_connections + 1);
    g_signal_connect(srv->service, "run", G_CALLBACK(on_connection), srv);
    /* GLib's default backlog of 10 drops handshakes when clients arrive
     * together, leaving them connected to nothing */
    g_socket_listener_set_backlog(G_SOCKET_LISTENER(srv->service), LISTEN_BACKLOG);
    if ((cfg->smtp_listen != NULL && !listen_on(srv, cfg->smtp_listen, NULL, err, errlen)) ||
        (cfg->lmtp_listen != NULL && !listen_on(srv, cfg->lmtp_listen, srv->lmtp_tag, err, errlen))) {
        crm_smtp_server_free(srv);
        return NULL;
    }
    if (cfg->smtp_listen == NULL && cfg->lmtp_listen == NULL) {
        crm_err_set(err, errlen, "neither smtp_listen nor lmtp_listen is set");
        crm_smtp_server_free(srv);
        return NULL;
    }
    g_socket_service_start(srv->service);
    return srv;
}

unsigned crm_smtp_server_stop(crm_smtp_server *srv, unsigned timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

    g_socket_service_stop(srv->service);
    g_socket_listener_close(G_SOCKET_LISTENER(srv->service));
    while (g_atomic_int_get(&srv->active) > 0 && g_get_monotonic_time() < deadline)
        g_usleep(50 * 1000);
    return (unsigned)g_atomic_int_get(&srv->active);
}

void crm_smtp_server_free(crm_smtp_server *srv)
{
    if (srv == NULL)
        return;
    g_clear_object(&srv->service);
    g_clear_object(&srv->lmtp_tag);
    settings_clear(&srv->set);
    g_hash_table_destroy(srv->per_ip);
    g_mutex_clear(&srv->lock);
    g_free(srv);
}
