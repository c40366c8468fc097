/*
 * NAME
 *	mail_message 3 - parse one RFC 5322 message into a plain struct
 * DESCRIPTION
 *	See mail_message.h for the contract. gmime does the parsing (RFC
 *	2045-2049, 2047, 2231); this file walks gmime's tree iteratively,
 *	enforces the limits, picks the body text, converts charsets, and
 *	makes every string safe for PostgreSQL (valid UTF-8, no NUL).
 *
 *	Never trust the bytes: a header, a charset or a boundary may be
 *	anything. Nothing here aborts; every failure is a status and a
 *	reason.
 * LIMITS
 *	Size is checked first; then one pass over the raw bytes bounds
 *	what gmime could build (guard_structure(), generous multiples of
 *	the part and header limits, because gmime's objects cost a hundred
 *	times their input); then the exact header, depth and part counts
 *	are taken on gmime's tree.
 * SEE ALSO
 *	html_text(3) for HTML bodies, RFC 3464 (delivery status), RFC 3834
 *	(Auto-Submitted).
 */
#include <string.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "digest.h"
#include "html_text.h"
#include "mail_message.h"
#include "reply_text.h"
#include "utf8.h"

/* Address groups may nest in theory; real mail never goes deeper. */
#define MAX_GROUP_DEPTH 4
/* Bounds on the delivery-status scanner. */
#define MAX_DSN_RECIPIENTS 256
#define MAX_DSN_BYTES (256 * 1024)

static GMimeParserOptions *parser_options;

static void init_once(void)
{
    static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

    g_mime_init();
    parser_options = g_mime_parser_options_new();
    /* 8-bit headers without RFC 2047 are common; read them as UTF-8,
     * else as the Windows charset that mail clients actually use */
    g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
    g_mime_parser_options_set_address_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(parser_options, GMIME_RFC_COMPLIANCE_LOOSE);
}

void crm_parsers_init(void)
{
    static GOnce once = G_ONCE_INIT;

    g_once(&once, (GThreadFunc)(void (*)(void))init_once, NULL);
}

void crm_parse_limits_default(crm_parse_limits *lim)
{
    lim->max_message_bytes = CRM_DEFAULT_MAX_MESSAGE_BYTES;
    lim->max_headers = CRM_DEFAULT_MAX_HEADERS;
    lim->max_mime_depth = CRM_DEFAULT_MAX_MIME_DEPTH;
    lim->max_parts = CRM_DEFAULT_MAX_PARTS;
    lim->max_text_bytes = CRM_DEFAULT_MAX_TEXT_BYTES;
}

const char *crm_parse_status_str(crm_parse_status st)
{
    switch (st) {
    case CRM_PARSE_OK: return "ok";
    case CRM_PARSE_TOO_LARGE: return "message too large";
    case CRM_PARSE_TOO_MANY_HEADERS: return "too many header fields";
    case CRM_PARSE_TOO_DEEP: return "MIME nesting too deep";
    case CRM_PARSE_TOO_MANY_PARTS: return "too many MIME parts";
    case CRM_PARSE_NOT_A_MESSAGE: return "not a mail message";
    case CRM_PARSE_NOMEM: return "out of memory";
    }
    return "unknown error";
}

static crm_parse_status fail(crm_parse_status st, char *err, size_t errlen, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static crm_parse_status fail(crm_parse_status st, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        g_vsnprintf(err, (gulong)errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- strings PostgreSQL accepts ----------------------------------- */

/* Valid UTF-8 with no NUL bytes, whatever came in. */
static char *clean_text(const char *s, size_t len)
{
    GString *nonul;
    char *out;

    if (s == NULL)
        return NULL;
    /* the common case in one pass: crm_utf8_valid() refuses NULs too */
    if (crm_utf8_valid(s, len))
        return g_strndup(s, len);
    if (memchr(s, '\0', len) == NULL)
        return g_utf8_make_valid(s, (gssize)len);
    nonul = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\0')
            g_string_append_c(nonul, s[i]);
    out = g_utf8_make_valid(nonul->str, (gssize)nonul->len);
    g_string_free(nonul, TRUE);
    return out;
}

static char *clean_str(const char *s)
{
    return s != NULL ? clean_text(s, strlen(s)) : NULL;
}

/* A trimmed, cleaned copy, or NULL when nothing is left. */
static char *clean_trimmed(const char *s)
{
    char *c = clean_str(s);

    if (c == NULL)
        return NULL;
    g_strstrip(c);
    if (*c == '\0') {
        g_free(c);
        return NULL;
    }
    return c;
}

/* Case-folded, trimmed and cleaned; NULL when empty. MIME tokens are
 * ASCII, so only ASCII letters change case. */
static char *lower_clean(const char *s)
{
    char *c = clean_trimmed(s);

    for (char *p = c; p != NULL && *p; p++)
        *p = g_ascii_tolower(*p);
    return c;
}

static char *upper_clean(const char *s)
{
    char *c = clean_trimmed(s);

    for (char *p = c; p != NULL && *p; p++)
        *p = g_ascii_toupper(*p);
    return c;
}

static bool is_utf8_name(const char *cs)
{
    return g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "utf8") == 0 ||
           g_ascii_strcasecmp(cs, "us-ascii") == 0 || g_ascii_strcasecmp(cs, "ascii") == 0;
}

/* Bytes in the declared charset to UTF-8. Mail lies about charsets: an
 * undeclared or unknown one is tried as UTF-8, then as windows-1252
 * (a superset of ISO-8859-1 that Outlook writes under either name).
 * bytes: len bytes without NULs, NUL-terminated, owned; returned as
 * they are when already valid UTF-8, the common case, so the text is
 * not copied again. */
static char *convert_charset(char *bytes, size_t len, const char *charset)
{
    char *out;

    if (charset != NULL && !is_utf8_name(charset)) {
        out = g_convert(bytes, (gssize)len, "UTF-8", g_mime_charset_iconv_name(charset),
                        NULL, NULL, NULL);
        if (out != NULL) {
            g_free(bytes);
            return out;
        }
    }
    if (crm_utf8_valid(bytes, len))
        return bytes;
    if (charset != NULL && is_utf8_name(charset) && g_ascii_strcasecmp(charset, "us-ascii") != 0) {
        out = g_utf8_make_valid(bytes, (gssize)len);
    } else {
        out = g_convert(bytes, (gssize)len, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
        if (out == NULL)
            out = g_utf8_make_valid(bytes, (gssize)len);
    }
    g_free(bytes);
    return out;
}

/* Body bytes in the declared charset to UTF-8 text with LF line ends.
 * NUL bytes go first, so that no conversion stops at one. */
static char *to_utf8(const char *bytes, size_t len, const char *charset)
{
    char *clean, *w;

    if (bytes == NULL || len == 0)
        return g_strdup("");
    if (charset != NULL && (g_ascii_strncasecmp(charset, "utf-16", 6) == 0 ||
                            g_ascii_strncasecmp(charset, "utf-32", 6) == 0 ||
                            g_ascii_strncasecmp(charset, "ucs-", 4) == 0)) {
        /* wide charsets are full of NUL bytes: convert first */
        char *wide = g_convert(bytes, (gssize)len, "UTF-8", charset, NULL, NULL, NULL);
        if (wide != NULL) {
            char *out = to_utf8(wide, strlen(wide), "utf-8");
            g_free(wide);
            return out;
        }
    }
    /* NULs out, CRLF to LF; the runs between them copied whole */
    clean = w = g_malloc(len + 1);
    for (const char *p = bytes, *end = bytes + len; p < end;) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        size_t run = strnlen(p, (size_t)((cr != NULL ? cr : end) - p));

        memcpy(w, p, run);
        w += run;
        p += run;
        if (p == end)
            break;
        if (*p == '\r' && !(p + 1 < end && p[1] == '\n'))
            *w++ = '\r';	/* a lone CR stays */
        p++;			/* a NUL, or the CR of a CRLF */
    }
    *w = '\0';
    return convert_charset(clean, (size_t)(w - clean), charset);
}

/* ---- raw hash -------------------------------------------------------- */

bool crm_message_has_id(const crm_message *m)
{
    return m->message_id != NULL && *m->message_id != '\0';
}

void crm_raw_sha256_hex(const char *raw, size_t len, char out[65])
{
    crm_sha256 *ck = crm_sha256_begin();
    const char *p = raw, *end = raw + len;

    /* Fold CRLF to LF so SMTP (CRLF) and Maildir (LF) copies agree. */
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (cr == NULL) {
            crm_sha256_add(ck, p, (size_t)(end - p));
            break;
        }
        crm_sha256_add(ck, p, (size_t)(cr - p));
        if (cr + 1 < end && cr[1] == '\n')
            p = cr + 1;		/* drop the CR, keep the LF */
        else {
            crm_sha256_add(ck, cr, 1);
            p = cr + 1;
        }
    }
    crm_sha256_end_hex(ck, out);
}

/* ---- sniffing -------------------------------------------------------- */

bool crm_message_sniff(const char *data, size_t len)
{
    size_t i = 0;

    if (data == NULL || len == 0)
        return false;
    /* a field name: printable ASCII but ':' and space, then ':' */
    while (i < len && i < 256) {
        unsigned char c = (unsigned char)data[i];
        if (c == ':')
            return i > 0;
        if (c <= 32 || c >= 127)
            return false;
        i++;
    }
    return false;
}

/* ---- structure guard ---------------------------------------------------- */

/* gmime builds its whole tree before we can count anything, and its
 * objects are large: 15 MB of empty parts ("--P\n\n") cost 4 GB and 25 s,
 * 40 MB of "X:a" lines 1.6 GB. So before gmime sees the bytes, one pass
 * over them bounds what it could build. The pass over-approximates
 * (every line starting "--" might be a boundary, every "name:" line a
 * header field, since gmime skips junk lines inside a header block
 * rather than ending it), so it refuses only at a multiple of the
 * limits; the exact counts are checked on gmime's tree afterwards. */
#define GUARD_PARTS_FACTOR	16u
#define GUARD_HEADERS_FACTOR	64u

/* "name:" or "name  :" as gmime accepts a field name: no blank, no
 * control character, at least one byte before the colon. */
static bool looks_like_field(const char *p, size_t n)
{
    size_t i = 0;

    /* most lines have no colon at all (base64 never does): one memchr
     * instead of a byte at a time */
    if (memchr(p, ':', n) == NULL)
        return false;
    while (i < n && p[i] != ':' && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
        i++;
    if (i == 0)
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n && p[i] == ':';
}

static crm_parse_status guard_structure(const char *raw, size_t len, const crm_parse_limits *lim,
                                        char *err, size_t errlen)
{
    uint64_t max_bounds = (uint64_t)lim->max_parts * GUARD_PARTS_FACTOR;
    uint64_t max_fields = (uint64_t)lim->max_headers * GUARD_HEADERS_FACTOR;
    uint64_t bounds = 0, fields = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *line = raw + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

        if (n >= 3 && line[0] == '-' && line[1] == '-') {
            if (++bounds > max_bounds)
                return fail(CRM_PARSE_TOO_MANY_PARTS, err, errlen,
                            "too many MIME parts: more than %" G_GUINT64_FORMAT
                            " boundary lines (part limit %u)", max_bounds, lim->max_parts);
        } else if (n > 0 && line[0] != ' ' && line[0] != '\t' && looks_like_field(line, n)) {
            if (++fields > max_fields)
                return fail(CRM_PARSE_TOO_MANY_HEADERS, err, errlen,
                            "too many header fields: more than %" G_GUINT64_FORMAT
                            " field lines (limit %u per header block)", max_fields,
                            lim->max_headers);
        }
        pos += n + 1;
    }
    return CRM_PARSE_OK;
}

/* ---- addresses ------------------------------------------------------- */

static void add_addresses(GArray *out, InternetAddressList *list, int depth)
{
    int n;

    if (list == NULL || depth > MAX_GROUP_DEPTH)
        return;
    n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            add_addresses(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                          depth + 1);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            char *email = clean_trimmed(addr);
            crm_address a;

            if (email == NULL)
                continue;
            a.email = email;
            a.name = clean_trimmed(internet_address_get_name(ia));
            g_array_append_val(out, a);
        }
    }
}

static void fill_list(crm_address_list *dst, InternetAddressList *list)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(crm_address));

    add_addresses(a, list, 0);
    dst->count = a->len;
    dst->items = (crm_address *)g_array_free(a, FALSE);
}

static void free_list(crm_address_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        g_free(l->items[i].name);
        g_free(l->items[i].email);
    }
    g_free(l->items);
}

/* ---- freeing ----------------------------------------------------------- */

static void free_bounces(crm_message *m)
{
    for (size_t i = 0; i < m->n_bounces; i++) {
        g_free(m->bounces[i].email);
        g_free(m->bounces[i].status);
        g_free(m->bounces[i].action);
        g_free(m->bounces[i].diagnostic);
    }
    g_free(m->bounces);
    m->bounces = NULL;
    m->n_bounces = 0;
}

void crm_message_free(crm_message *m)
{
    if (m == NULL)
        return;
    g_free(m->message_id);
    g_free(m->in_reply_to);
    for (size_t i = 0; i < m->n_references; i++)
        g_free(m->references[i]);
    g_free(m->references);
    g_free(m->subject);
    free_list(&m->from);
    free_list(&m->sender);
    free_list(&m->to);
    free_list(&m->cc);
    free_list(&m->bcc);
    free_list(&m->reply_to);
    g_free(m->list_id);
    if (m->body_new_text != m->body_text)
        g_free(m->body_new_text);
    g_free(m->body_text);
    for (size_t i = 0; i < m->n_attachments; i++) {
        g_free(m->attachments[i].filename);
        g_free(m->attachments[i].content_type);
        g_free(m->attachments[i].data);
    }
    g_free(m->attachments);
    for (size_t i = 0; i < m->n_calendar_parts; i++) {
        g_free(m->calendar_parts[i].method);
        g_free(m->calendar_parts[i].data);
    }
    g_free(m->calendar_parts);
    g_free(m->auto_reason);
    free_bounces(m);
    g_free(m);
}

/* ---- MIME parts -------------------------------------------------------- */

/* The bytes a memory stream collected, taken over without a copy. */
static GByteArray *take_bytes(GMimeStream *mem)
{
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));

    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_object_unref(mem);
    return ba;
}

static GByteArray *part_bytes(GMimePart *part)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *mem;

    if (dw == NULL)
        return g_byte_array_new();
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    return take_bytes(mem);
}

static GByteArray *object_bytes(GMimeObject *obj)
{
    GMimeStream *mem = g_mime_stream_mem_new();

    g_mime_object_write_to_stream(obj, NULL, mem);
    return take_bytes(mem);
}

static char *part_text(GMimeObject *obj)
{
    GByteArray *b = part_bytes(GMIME_PART(obj));
    const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
    char *t = to_utf8((const char *)b->data, b->len, cs);

    g_byte_array_free(b, TRUE);
    return t;
}

static bool is_attachment_disposition(GMimeObject *obj)
{
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
    return cd != NULL && g_mime_content_disposition_is_attachment(cd);
}

/* RFC 2231 puts charset'language' before the first segment of a
 * continued parameter. gmime strips it when the segments come in order;
 * given out of order (filename*1* before filename*0*, seen in hostile
 * mail) it is left in front of the joined value. */
static const char *without_rfc2231_prefix(const char *v)
{
    const char *q1, *q2;

    if (v == NULL || (q1 = strchr(v, '\'')) == NULL || q1 == v ||
        (q2 = strchr(q1 + 1, '\'')) == NULL || q2[1] == '\0')
        return v;
    /* only a charset such a prefix names, so "a'b'c.txt" stays whole */
    if (g_ascii_strncasecmp(v, "utf-8'", 6) != 0 && g_ascii_strncasecmp(v, "us-ascii'", 9) != 0 &&
        g_ascii_strncasecmp(v, "iso-8859-", 9) != 0 && g_ascii_strncasecmp(v, "windows-", 8) != 0)
        return v;
    for (const char *p = v; p < q1; p++)
        if (!g_ascii_isalnum(*p) && *p != '-')
            return v;
    for (const char *p = q1 + 1; p < q2; p++)
        if (!g_ascii_isalnum(*p) && *p != '-')
            return v;
    return q2 + 1;
}

static void add_attachment(GArray *atts, GMimeObject *obj, GByteArray *bytes,
                           const char *type, const char *fallback_name)
{
    crm_attachment a = { 0 };
    const char *fn = GMIME_IS_PART(obj) ?
                     without_rfc2231_prefix(g_mime_part_get_filename(GMIME_PART(obj))) : NULL;

    a.filename = clean_trimmed(fn != NULL ? fn : fallback_name);
    a.content_type = lower_clean(type);
    if (a.content_type == NULL)
        a.content_type = g_strdup("application/octet-stream");
    a.size = bytes->len;
    crm_sha256_hex(bytes->data, bytes->len, a.sha256_hex);
    a.data = g_byte_array_free(bytes, FALSE);
    g_array_append_val(atts, a);
}

/* ---- delivery status notifications (RFC 3464) ------------------------- */

static void dsn_field(crm_bounce_recipient *r, const char *name, const char *value)
{
    char **slot = NULL;
    const char *v = value;

    if (g_ascii_strcasecmp(name, "Final-Recipient") == 0) {
        slot = &r->email;
        const char *semi = strchr(v, ';');	/* "rfc822; addr" */
        if (semi != NULL)
            v = semi + 1;
    } else if (g_ascii_strcasecmp(name, "Status") == 0) {
        /* RFC 3464 2.3.4: the code only; MTAs append "(comments)" */
        size_t n;
        if (r->status != NULL)
            return;
        while (*v == ' ' || *v == '\t')
            v++;
        n = strspn(v, "0123456789.");
        if (n > 0) {
            r->status = g_strndup(v, n);
            return;
        }
        slot = &r->status;
    } else if (g_ascii_strcasecmp(name, "Action") == 0) {
        slot = &r->action;
    } else if (g_ascii_strcasecmp(name, "Diagnostic-Code") == 0) {
        slot = &r->diagnostic;
        const char *semi = strchr(v, ';');	/* "smtp; 550 ..." */
        if (semi != NULL)
            v = semi + 1;
    }
    if (slot == NULL || *slot != NULL)
        return;
    *slot = clean_trimmed(v);
    if (*slot != NULL && slot == &r->action) {
        char *low = g_ascii_strdown(*slot, -1);
        g_free(*slot);
        *slot = low;
    }
    if (*slot != NULL && slot == &r->email) {
        /* some MTAs write "<addr>" */
        char *e = *slot;
        size_t n = strlen(e);
        if (n >= 2 && e[0] == '<' && e[n - 1] == '>') {
            memmove(e, e + 1, n - 2);
            e[n - 2] = '\0';
        }
    }
}

/* The per-recipient blocks of a message/delivery-status body: blank-line
 * separated groups of "Name: value" fields, values possibly folded. */
static void parse_dsn(GArray *out, const char *text, size_t len)
{
    char *copy, **lines;
    crm_bounce_recipient cur = { 0 };
    GString *value;
    char *name = NULL;

    /* an empty delivery-status part (found by fuzzing) has no text at all */
    if (text == NULL || len == 0)
        return;
    copy = g_strndup(text, MIN(len, (size_t)MAX_DSN_BYTES));
    lines = g_strsplit(copy, "\n", -1);
    value = g_string_new(NULL);

    for (int i = 0;; i++) {
        char *line = lines[i];
        bool end = line == NULL;
        size_t n = end ? 0 : strlen(line);

        if (!end && n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (!end && n > 0 && (line[0] == ' ' || line[0] == '\t') && name != NULL) {
            g_string_append_c(value, ' ');
            g_string_append(value, g_strstrip(line));
            continue;
        }
        if (name != NULL) {
            dsn_field(&cur, name, value->str);
            g_clear_pointer(&name, g_free);
        }
        if (end || n == 0) {
            if (cur.email != NULL && out->len < MAX_DSN_RECIPIENTS)
                g_array_append_val(out, cur);
            else {
                g_free(cur.email);
                g_free(cur.status);
                g_free(cur.action);
                g_free(cur.diagnostic);
            }
            memset(&cur, 0, sizeof cur);
            if (end)
                break;
            continue;
        }
        char *colon = strchr(line, ':');
        if (colon != NULL) {
            name = g_strndup(line, (gsize)(colon - line));
            g_strstrip(name);
            g_string_assign(value, colon + 1);
        }
    }
    g_string_free(value, TRUE);
    g_strfreev(lines);
    g_free(copy);
}

static bool looks_like_bounce_subject(const char *subject)
{
    static const char *const hints[] = {
        "undeliver", "delivery status notification", "failure notice", "returned mail",
        "mail delivery failed", "delivery failure", "nondeliverable", "non-deliverable",
        "undelivered mail", "delivery has failed", NULL
    };
    char *low;
    bool hit = false;

    if (subject == NULL)
        return false;
    low = g_utf8_strdown(subject, -1);
    for (int i = 0; hints[i] != NULL && !hit; i++)
        hit = strstr(low, hints[i]) != NULL;
    g_free(low);
    return hit;
}

static bool from_mailer_daemon(const crm_message *m)
{
    for (size_t i = 0; i < m->from.count; i++) {
        const char *e = m->from.items[i].email;
        if (g_ascii_strncasecmp(e, "mailer-daemon@", 14) == 0 ||
            g_ascii_strncasecmp(e, "postmaster@", 11) == 0 ||
            g_ascii_strcasecmp(e, "mailer-daemon") == 0)
            return true;
    }
    return false;
}

/* ---- the walk ---------------------------------------------------------- */

typedef struct walk_item {
    GMimeObject *obj;
    unsigned depth;
    bool inner;			/* inside an attached message/rfc822 */
} walk_item;

typedef struct walk_state {
    const crm_parse_limits *lim;
    GString *plain;		/* inline text/plain of the outer message */
    char *html;			/* first inline text/html */
    GArray *attachments;
    GArray *calendars;
    GArray *bounces;
    bool is_report;		/* top level multipart/report; report-type=delivery-status */
    bool is_multipart_report;	/* top level multipart/report, any report-type */
    bool has_dsn_part;		/* a message/delivery-status part was read */
    unsigned parts, depth;
} walk_state;

static crm_parse_status check_headers(GMimeObject *obj, const crm_parse_limits *lim,
                                      char *err, size_t errlen)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
    int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;

    if ((unsigned)n > lim->max_headers)
        return fail(CRM_PARSE_TOO_MANY_HEADERS, err, errlen,
                    "too many header fields: %d in one part (limit %u)", n, lim->max_headers);
    return CRM_PARSE_OK;
}

static void visit_leaf(walk_state *w, GMimeObject *obj, bool inner)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
    bool attach_disp = is_attachment_disposition(obj);
    const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
    char *low = g_ascii_strdown(type, -1);

    if (inner) {
        /* the attached message travels whole as its own attachment */
    } else if (strcmp(low, "text/calendar") == 0 && !attach_disp) {
        crm_calendar_part c = { 0 };
        const char *method = g_mime_object_get_content_type_parameter(obj, "method");
        c.method = upper_clean(method);
        c.data = part_text(obj);
        c.len = strlen(c.data);
        g_array_append_val(w->calendars, c);
    } else if (strcmp(low, "message/delivery-status") == 0) {
        /* read even without report-type: some MTAs omit it (UCLA's did) */
        GByteArray *b = part_bytes(GMIME_PART(obj));
        parse_dsn(w->bounces, (const char *)b->data, b->len);
        g_byte_array_free(b, TRUE);
        w->has_dsn_part = true;
    } else if (strcmp(low, "text/plain") == 0 && !attach_disp && fn == NULL) {
        char *t = part_text(obj);
        if (w->plain->len > 0 && *t)
            g_string_append(w->plain, "\n\n");
        g_string_append(w->plain, t);
        g_free(t);
    } else if (strcmp(low, "text/html") == 0 && !attach_disp && fn == NULL) {
        if (w->html == NULL)
            w->html = part_text(obj);
    } else if (g_str_has_prefix(low, "text/") && !attach_disp && fn == NULL) {
        /* inline text that is not the body (text/rfc822-headers of a
         * bounce, text/enriched, a stray text/x-vcard): no document */
    } else {
        add_attachment(w->attachments, obj, part_bytes(GMIME_PART(obj)), low, NULL);
    }
    g_free(low);
    g_free(type);
}

static crm_parse_status walk(walk_state *w, GMimeObject *root, char *err, size_t errlen)
{
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(walk_item));
    walk_item start = { root, 1, false };
    crm_parse_status st = CRM_PARSE_OK;

    g_array_append_val(stack, start);
    while (stack->len > 0 && st == CRM_PARSE_OK) {
        walk_item it = g_array_index(stack, walk_item, stack->len - 1);
        g_array_set_size(stack, stack->len - 1);

        if (it.obj == NULL)
            continue;
        if (++w->parts > w->lim->max_parts) {
            st = fail(CRM_PARSE_TOO_MANY_PARTS, err, errlen,
                      "too many MIME parts (limit %u)", w->lim->max_parts);
            break;
        }
        if (it.depth > w->lim->max_mime_depth) {
            st = fail(CRM_PARSE_TOO_DEEP, err, errlen,
                      "MIME nesting deeper than %u levels", w->lim->max_mime_depth);
            break;
        }
        w->depth = MAX(w->depth, it.depth);
        if ((st = check_headers(it.obj, w->lim, err, errlen)) != CRM_PARSE_OK)
            break;

        if (GMIME_IS_MULTIPART(it.obj)) {
            GMimeMultipart *mp = GMIME_MULTIPART(it.obj);
            /* push in reverse so that parts are visited in order */
            for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0; i--) {
                walk_item child = { g_mime_multipart_get_part(mp, i), it.depth + 1, it.inner };
                g_array_append_val(stack, child);
            }
        } else if (GMIME_IS_MESSAGE_PART(it.obj)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(it.obj));
            GMimeContentType *ct = g_mime_object_get_content_type(it.obj);
            char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("message/rfc822");
            char *low = g_ascii_strdown(type, -1);

            if (!it.inner && strcmp(low, "message/delivery-status") == 0) {
                GByteArray *b = inner ? object_bytes(GMIME_OBJECT(inner)) : g_byte_array_new();
                parse_dsn(w->bounces, (const char *)b->data, b->len);
                g_byte_array_free(b, TRUE);
                w->has_dsn_part = true;
            } else if (!it.inner && inner != NULL) {
                const char *subj = g_mime_message_get_subject(inner);
                char *name = g_strdup_printf("%s.eml", subj && *subj ? subj : "message");
                add_attachment(w->attachments, it.obj, object_bytes(GMIME_OBJECT(inner)),
                               low, name);
                g_free(name);
            }
            g_free(low);
            g_free(type);
            if (inner != NULL) {
                if ((st = check_headers(GMIME_OBJECT(inner), w->lim, err, errlen)) != CRM_PARSE_OK)
                    break;
                walk_item child = { g_mime_message_get_mime_part(inner), it.depth + 1, true };
                g_array_append_val(stack, child);
            }
        } else if (GMIME_IS_PART(it.obj)) {
            visit_leaf(w, it.obj, it.inner);
        }
    }
    g_array_free(stack, TRUE);
    return st;
}

/* ---- headers ------------------------------------------------------------ */

static const char *header(GMimeObject *obj, const char *name)
{
    return g_mime_object_get_header(obj, name);
}

static void read_received_date(crm_message *m, GMimeObject *obj)
{
    const char *recv = header(obj, "Received");
    const char *semi;
    GDateTime *dt;

    if (recv == NULL || (semi = strrchr(recv, ';')) == NULL)
        return;
    dt = g_mime_utils_header_decode_date(semi + 1);
    if (dt != NULL) {
        m->has_received_date = true;
        m->received_date = g_date_time_to_unix(dt);
        g_date_time_unref(dt);
    }
}

static void read_auto_kind(crm_message *m, GMimeObject *obj)
{
    const char *v;

    if ((v = header(obj, "Auto-Submitted")) != NULL) {
        char *t = g_strstrip(g_ascii_strdown(v, -1));
        /* RFC 3834: "no" means a human wrote it; any other value, a robot */
        bool human = g_str_has_prefix(t, "no") &&
                     (t[2] == '\0' || t[2] == ';' || t[2] == ' ' || t[2] == '(');
        if (!human) {
            char *shown = clean_str(t);
            m->auto_kind = CRM_AUTO_REPLY;
            m->auto_reason = g_strconcat("Auto-Submitted: ", shown, NULL);
            g_free(shown);
        }
        g_free(t);
        if (!human)
            return;
    }
    if (header(obj, "X-Autoreply") != NULL) {
        m->auto_kind = CRM_AUTO_REPLY;
        m->auto_reason = g_strdup("X-Autoreply");
    } else if (header(obj, "X-Autorespond") != NULL) {
        m->auto_kind = CRM_AUTO_REPLY;
        m->auto_reason = g_strdup("X-Autorespond");
    } else if ((v = header(obj, "Precedence")) != NULL) {
        char *t = g_strstrip(g_ascii_strdown(v, -1));
        if (strcmp(t, "auto_reply") == 0) {
            m->auto_kind = CRM_AUTO_REPLY;
            m->auto_reason = g_strdup("Precedence: auto_reply");
        }
        g_free(t);
    }
}

static char *decode_id(const char *value)
{
    char *id, *c;

    if (value == NULL)
        return NULL;
    id = g_mime_utils_decode_message_id(value);
    if (id == NULL) {
        /* not even <...>: keep what is there, trimmed */
        id = g_strdup(value);
    }
    c = clean_trimmed(id);
    g_free(id);
    return c;
}

static void read_references(crm_message *m, GMimeObject *obj)
{
    const char *v = header(obj, "References");
    GMimeReferences *refs;
    int n;

    if (v == NULL)
        return;
    refs = g_mime_references_parse(NULL, v);
    if (refs == NULL)
        return;
    n = g_mime_references_length(refs);
    m->references = g_new0(char *, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        char *id = clean_trimmed(g_mime_references_get_message_id(refs, i));
        if (id != NULL)
            m->references[m->n_references++] = id;
    }
    g_mime_references_free(refs);
}

/* ---- entry point ------------------------------------------------------- */

/* The new content of the mail for embedding: html_new is the HTML body
 * rendered with its quotes marked and signature dropped (NULL for a
 * text/plain body); reply_text cuts quotes and signatures in the text.
 * When nothing new is left, the whole body is the best there is. The
 * whole body is shared, not copied (see mail_message.h): most mail
 * quotes nothing, and the store keeps its text once when it can tell. */
static void set_new_text(crm_message *m, const char *html_new)
{
    const char *src = html_new != NULL ? html_new : m->body_text;
    bool nothing_cut;
    char *t = crm_reply_cut(src, strlen(src), &nothing_cut);
    const char *p;

    /* A cut of the body text lacks some of its lines, so it is never the
     * body again; only the HTML rendering, cut or not, may be. */
    if (t == NULL && nothing_cut && html_new != NULL && strcmp(html_new, m->body_text) != 0) {
        t = g_strdup(html_new);
    } else if (t != NULL && html_new != NULL && strcmp(t, m->body_text) == 0) {
        g_free(t);
        t = NULL;
    }
    for (p = t; p != NULL && *p != '\0' && g_ascii_isspace(*p); p++)
        ;
    if (p == NULL || *p == '\0') {
        g_free(t);
        t = m->body_text;
    }
    m->body_new_text = t;
}

crm_parse_status crm_message_parse(const char *raw, size_t len, const crm_parse_limits *lim,
                                   crm_message **out, char *err, size_t errlen)
{
    crm_parse_limits defaults;
    GByteArray *bytes;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;
    GMimeObject *top;
    crm_message *m;
    walk_state w = { 0 };
    crm_parse_status st;
    GDateTime *dt;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (lim == NULL) {
        crm_parse_limits_default(&defaults);
        lim = &defaults;
    }
    if (raw == NULL)
        len = 0;
    if (len > lim->max_message_bytes)
        return fail(CRM_PARSE_TOO_LARGE, err, errlen, "message of %zu bytes exceeds the limit "
                    "of %zu bytes", len, lim->max_message_bytes);
    crm_parsers_init();
    /* a lone message saved with its mbox envelope line ("From addr date")
     * is still that message: the line is not part of it (RFC 4155) */
    if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
        const char *nl = memchr(raw, '\n', len);
        size_t skip = nl != NULL ? (size_t)(nl - raw) + 1 : len;
        raw += skip;
        len -= skip;
    }
    if (!crm_message_sniff(raw, len))
        return fail(CRM_PARSE_NOT_A_MESSAGE, err, errlen, len == 0 ? "empty message" :
                    "not a mail message: no header field on the first line");
    if ((st = guard_structure(raw, len, lim, err, errlen)) != CRM_PARSE_OK)
        return st;

    /* The stream reads raw where it lies, not a copy: gmime only reads
     * it, and its objects, which may point into it, are all gone when
     * this returns. The array struct outlives them; the bytes are the
     * caller's. */
    bytes = g_byte_array_new_take((guint8 *)(guintptr)raw, len);
    stream = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    msg = g_mime_parser_construct_message(parser, parser_options);
    g_object_unref(parser);
    g_object_unref(stream);
    if (msg == NULL) {
        g_byte_array_free(bytes, FALSE);
        return fail(CRM_PARSE_NOT_A_MESSAGE, err, errlen, "not a mail message: no header block");
    }
    top = GMIME_OBJECT(msg);

    if ((st = check_headers(top, lim, err, errlen)) != CRM_PARSE_OK) {
        g_object_unref(msg);
        g_byte_array_free(bytes, FALSE);
        return st;
    }

    m = g_new0(crm_message, 1);
    m->header_count = (unsigned)g_mime_header_list_get_count(g_mime_object_get_header_list(top));
    m->message_id = clean_trimmed(g_mime_message_get_message_id(msg));
    /* hashing every mail cost a tenth of parsing */
    if (!crm_message_has_id(m))
        crm_raw_sha256_hex(raw, len, m->raw_sha256_hex);
    m->in_reply_to = decode_id(header(top, "In-Reply-To"));
    read_references(m, top);
    m->subject = clean_str(g_mime_message_get_subject(msg));
    if (m->subject != NULL)
        g_strstrip(m->subject);
    dt = g_mime_message_get_date(msg);
    if (dt != NULL) {
        m->has_date = true;
        m->date = g_date_time_to_unix(dt);
    }
    read_received_date(m, top);
    fill_list(&m->from, g_mime_message_get_from(msg));
    fill_list(&m->sender, g_mime_message_get_sender(msg));
    fill_list(&m->to, g_mime_message_get_to(msg));
    fill_list(&m->cc, g_mime_message_get_cc(msg));
    fill_list(&m->bcc, g_mime_message_get_bcc(msg));
    fill_list(&m->reply_to, g_mime_message_get_reply_to(msg));
    m->list_id = clean_trimmed(header(top, "List-Id"));

    w.lim = lim;
    w.plain = g_string_new(NULL);
    w.attachments = g_array_new(FALSE, TRUE, sizeof(crm_attachment));
    w.calendars = g_array_new(FALSE, TRUE, sizeof(crm_calendar_part));
    w.bounces = g_array_new(FALSE, TRUE, sizeof(crm_bounce_recipient));
    {
        GMimeObject *body = g_mime_message_get_mime_part(msg);
        GMimeContentType *ct = body ? g_mime_object_get_content_type(body) : NULL;
        const char *rt = body ? g_mime_object_get_content_type_parameter(body, "report-type") : NULL;
        w.is_multipart_report = ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report");
        w.is_report = w.is_multipart_report && rt != NULL &&
                      g_ascii_strcasecmp(rt, "delivery-status") == 0;
        st = walk(&w, body, err, errlen);
    }

    m->n_attachments = w.attachments->len;
    m->attachments = (crm_attachment *)g_array_free(w.attachments, FALSE);
    m->n_calendar_parts = w.calendars->len;
    m->calendar_parts = (crm_calendar_part *)g_array_free(w.calendars, FALSE);
    m->n_bounces = w.bounces->len;
    m->bounces = (crm_bounce_recipient *)g_array_free(w.bounces, FALSE);
    m->part_count = w.parts;
    m->mime_depth = w.depth;

    {
        char *html_new = NULL;	/* HTML rendered with its quotes marked */
        if (w.plain->len > 0 || w.html == NULL) {
            m->body_text = g_string_free(w.plain, FALSE);
            g_free(w.html);
        } else {
            g_string_free(w.plain, TRUE);
            crm_html_to_texts(w.html, strlen(w.html), lim->max_text_bytes + 1,
                              lim->max_text_bytes, &m->body_text, &html_new);
            if (m->body_text == NULL)
                m->body_text = g_strdup("");
            m->body_from_html = true;
            g_free(w.html);
        }
        if (strlen(m->body_text) > lim->max_text_bytes) {
            size_t cut = lim->max_text_bytes;
            while (cut > 0 && ((unsigned char)m->body_text[cut] & 0xC0) == 0x80)
                cut--;
            m->body_text[cut] = '\0';
            m->body_truncated = true;
        }
        set_new_text(m, html_new);
        g_free(html_new);
    }

    read_auto_kind(m, top);
    /* a bounce outranks an auto-reply: it says the address is dead */
    if (w.is_report || (w.is_multipart_report && w.has_dsn_part)) {
        m->auto_kind = CRM_AUTO_BOUNCE;
        g_free(m->auto_reason);
        m->auto_reason = g_strdup(w.is_report ? "multipart/report; report-type=delivery-status"
                                              : "multipart/report with a delivery-status part");
    } else if (from_mailer_daemon(m) && looks_like_bounce_subject(m->subject)) {
        m->auto_kind = CRM_AUTO_BOUNCE;
        g_free(m->auto_reason);
        m->auto_reason = g_strdup("bounce from the mailer daemon");
    }
    if (m->auto_kind != CRM_AUTO_BOUNCE && m->n_bounces > 0) {
        /* a delivery-status part in a human's mail (a forwarded bounce)
         * names nobody whose address failed for us */
        free_bounces(m);
    }
    g_object_unref(msg);
    g_byte_array_free(bytes, FALSE);

    if (st != CRM_PARSE_OK) {
        crm_message_free(m);
        return st;
    }
    *out = m;
    return CRM_PARSE_OK;
}
