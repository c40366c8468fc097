/*
 * NAME
 *	forward 3 - find the original mail inside a forward
 * DESCRIPTION
 *	See forward.h. The inline header block is rebuilt as an RFC 5322
 *	header and handed to crm_message_parse(): the clients' blocks are
 *	near enough to real headers that gmime reads names, lists and most
 *	dates, and no address is scanned by hand.
 */
#include <string.h>
#include <glib.h>

#include "forward.h"

/* How many lines may separate the marker from the header block. */
#define MAX_GAP_LINES	2
#define MAX_BLOCK_LINES	20

static const struct {
    const char *marker;		/* a line starting with this */
    const char *format;
} markers[] = {
    { "---------- Forwarded message ---------", "gmail" },
    { "-------- Forwarded Message --------", "thunderbird" },
    { "Begin forwarded message:", "apple" },
    { "-----Original Message-----", "outlook" },
    { "________________________________", "outlook" },
};

void crm_forward_free(crm_forward *f)
{
    if (f == NULL)
        return;
    crm_message_free(f->original);
    g_free(f->note);
    g_free(f);
}

static crm_forward *attached(const crm_message *msg, const crm_parse_limits *lim)
{
    const crm_attachment *found = NULL;
    crm_message *orig = NULL;
    char err[256];
    crm_forward *f;

    for (size_t i = 0; i < msg->n_attachments; i++) {
        if (strcmp(msg->attachments[i].content_type, "message/rfc822") != 0)
            continue;
        if (found != NULL)
            return NULL;		/* several: a digest, not a forward */
        found = &msg->attachments[i];
    }
    if (found == NULL ||
        crm_message_parse((const char *)found->data, found->size, lim, &orig, err, sizeof err) != CRM_PARSE_OK)
        return NULL;
    f = g_new0(crm_forward, 1);
    f->original = orig;
    f->note = g_strstrip(g_strdup(msg->body_text));
    f->format = "attached";
    return f;
}

/* "Sent:" is Outlook's Date; "Name [mailto:a@b]" is its address form. */
static void header_line(GString *hdr, const char *name, const char *value)
{
    GString *v = g_string_new(value);
    char *m;

    while ((m = strstr(v->str, "[mailto:")) != NULL) {
        char *close = strchr(m, ']');
        if (close == NULL)
            break;
        *m = '<';
        *close = '>';
        g_string_erase(v, m - v->str + 1, 7);
    }
    g_string_append_printf(hdr, "%s: %s\n", name, v->str);
    g_string_free(v, TRUE);
}

static bool block_field(const char *line, const char **name, const char **value)
{
    static const struct { const char *label; const char *name; } fields[] = {
        { "From:", "From" }, { "To:", "To" }, { "Cc:", "Cc" }, { "CC:", "Cc" },
        { "Date:", "Date" }, { "Sent:", "Date" }, { "Subject:", "Subject" },
        { "Reply-To:", "Reply-To" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        size_t n = strlen(fields[i].label);
        if (g_ascii_strncasecmp(line, fields[i].label, n) == 0) {
            *name = fields[i].name;
            *value = line + n;
            while (**value == ' ' || **value == '\t')
                (*value)++;
            return true;
        }
    }
    return false;
}

/* A marker opens a line, so it is somewhere in the text: most mail has
 * none, and is let go without being split into lines. */
static bool has_marker(const char *text)
{
    for (size_t k = 0; k < G_N_ELEMENTS(markers); k++)
        if (strstr(text, markers[k].marker) != NULL)
            return true;
    return false;
}

static crm_forward *inline_forward(const crm_message *msg, const crm_parse_limits *lim)
{
    char **lines;
    crm_forward *f = NULL;

    if (!has_marker(msg->body_text))
        return NULL;
    lines = g_strsplit(msg->body_text, "\n", -1);

    for (int i = 0; lines[i] != NULL && f == NULL; i++) {
        const char *format = NULL;
        char *trimmed = g_strstrip(g_strdup(lines[i]));
        GString *hdr, *raw;
        bool have_from = false;
        int j, fields = 0;

        for (size_t k = 0; k < G_N_ELEMENTS(markers) && format == NULL; k++)
            if (g_str_has_prefix(trimmed, markers[k].marker))
                format = markers[k].format;
        g_free(trimmed);
        if (format == NULL)
            continue;

        /* the header block: after at most MAX_GAP_LINES blank lines */
        j = i + 1;
        while (lines[j] != NULL && j - i <= MAX_GAP_LINES && *g_strstrip(lines[j]) == '\0')
            j++;
        hdr = g_string_new(NULL);
        for (; lines[j] != NULL && fields < MAX_BLOCK_LINES; j++) {
            const char *name, *value;
            char *l = g_strstrip(g_strdup(lines[j]));
            bool field = block_field(l, &name, &value);
            if (field) {
                header_line(hdr, name, value);
                have_from = have_from || strcmp(name, "From") == 0;
                fields++;
            }
            g_free(l);
            if (!field)
                break;
        }
        if (!have_from) {
            g_string_free(hdr, TRUE);
            continue;		/* a quoted line that looked like a marker */
        }
        raw = g_string_new(hdr->str);
        g_string_append_c(raw, '\n');
        for (; lines[j] != NULL; j++) {
            g_string_append(raw, lines[j]);
            g_string_append_c(raw, '\n');
        }
        {
            crm_message *orig = NULL;
            char err[256];
            if (crm_message_parse(raw->str, raw->len, lim, &orig, err, sizeof err) == CRM_PARSE_OK &&
                orig->from.count > 0) {
                GString *note = g_string_new(NULL);
                for (int k = 0; k < i; k++) {
                    g_string_append(note, lines[k]);
                    g_string_append_c(note, '\n');
                }
                f = g_new0(crm_forward, 1);
                f->original = orig;
                f->note = g_strstrip(g_string_free(note, FALSE));
                f->format = format;
            } else {
                crm_message_free(orig);
            }
        }
        g_string_free(raw, TRUE);
        g_string_free(hdr, TRUE);
    }
    g_strfreev(lines);
    return f;
}

crm_forward *crm_forward_detect(const crm_message *msg, const crm_parse_limits *lim)
{
    crm_forward *f = attached(msg, lim);

    return f != NULL ? f : inline_forward(msg, lim);
}
