/*
 * NAME
 *	mbox 3 - split an mbox file into messages
 * DESCRIPTION
 *	See mbox.h. Works on a buffer (an mmap of the file): no copies but
 *	crm_mbox_unescape()'s, which is per message.
 */
#include <string.h>
#include <glib.h>

#include "mbox.h"

bool crm_mbox_sniff(const char *data, size_t len)
{
    return data != NULL && len >= 5 && memcmp(data, "From ", 5) == 0;
}

void crm_mbox_iter_init(crm_mbox_iter *it, const char *data, size_t len)
{
    it->data = data;
    it->len = len;
    it->pos = 0;
}

/* Offset of the next line starting "From " at or after pos, or len. */
static size_t next_separator(const char *d, size_t len, size_t pos)
{
    while (pos < len) {
        const char *nl;

        if (len - pos >= 5 && memcmp(d + pos, "From ", 5) == 0 &&
            (pos == 0 || d[pos - 1] == '\n'))
            return pos;
        nl = memchr(d + pos, '\n', len - pos);
        if (nl == NULL)
            return len;
        pos = (size_t)(nl - d) + 1;
    }
    return len;
}

bool crm_mbox_next(crm_mbox_iter *it, const char **msg, size_t *msg_len, size_t *offset)
{
    const char *d = it->data;
    size_t start, body, end;
    const char *nl;

    start = next_separator(d, it->len, it->pos);
    if (start >= it->len)
        return false;
    nl = memchr(d + start, '\n', it->len - start);
    body = nl != NULL ? (size_t)(nl - d) + 1 : it->len;
    end = next_separator(d, it->len, body);
    it->pos = end;

    /* the blank line a writer ends each message with (before the next
     * "From ", and at the end of the file) belongs to the format */
    if (end > body) {
        if (end - body >= 2 && d[end - 1] == '\n' && d[end - 2] == '\n')
            end--;
        else if (end - body >= 3 && d[end - 1] == '\n' && d[end - 2] == '\r' && d[end - 3] == '\n')
            end -= 2;
    }
    *msg = d + body;
    *msg_len = end - body;
    *offset = start;
    return true;
}

char *crm_mbox_unescape(const char *msg, size_t len, size_t *out_len)
{
    GString *out = g_string_sized_new(len);
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(msg + pos, '\n', len - pos);
        size_t line_end = nl != NULL ? (size_t)(nl - msg) + 1 : len;
        size_t q = pos;

        while (q < line_end && msg[q] == '>')
            q++;
        /* ">From " and ">>From ": drop one '>' (mboxrd, and mboxo's one) */
        if (q > pos && line_end - q >= 5 && memcmp(msg + q, "From ", 5) == 0)
            pos++;
        g_string_append_len(out, msg + pos, (gssize)(line_end - pos));
        pos = line_end;
    }
    *out_len = out->len;
    return g_string_free(out, FALSE);
}
