/*
 * NAME
 *	mbox 3h - split an mbox file into messages
 * DESCRIPTION
 *	An mbox is messages separated by "From " lines (RFC 4155). The
 *	iterator walks a buffer (typically an mmap of the file) and yields
 *	each message as a slice of that buffer, without the "From " line,
 *	with its byte offset in the file for error messages. Every line that
 *	starts with "From " is a separator, as mutt and gmime read mboxes;
 *	no blank line is required before it (mboxo writers do not always
 *	write one), and the one blank line a writer puts there is dropped.
 *
 *	crm_mbox_unescape() undoes mboxrd/mboxo quoting (">From " -> "From ",
 *	">>From " -> ">From ") so that the message hashes as it did before
 *	it was written into the mbox.
 * OWNERSHIP
 *	Slices point into the caller's buffer. crm_mbox_unescape() returns
 *	a g_malloc()ed copy the caller g_free()s.
 */
#ifndef CRM_MBOX_H
#define CRM_MBOX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct crm_mbox_iter {
    const char *data;
    size_t len;
    size_t pos;
} crm_mbox_iter;

/* True when the buffer starts with an mbox "From " separator line. */
bool crm_mbox_sniff(const char *data, size_t len);

void crm_mbox_iter_init(crm_mbox_iter *it, const char *data, size_t len);

/* Next message: *msg and *msg_len are the message (headers and body, no
 * separator line, trailing blank separator line removed); *offset is the
 * byte offset of its "From " line. Returns false at the end. */
bool crm_mbox_next(crm_mbox_iter *it, const char **msg, size_t *msg_len,
                   size_t *offset);

char *crm_mbox_unescape(const char *msg, size_t len, size_t *out_len);

#endif
