/*
 * fuzz_html_text - libFuzzer target: HTML to readable text (libxml2's
 * HTML parser underneath), bounded output; the new-text mode that drops
 * quote containers, and reply_text over the result and the raw bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "html_text.h"
#include "reply_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *fresh;

    g_free(crm_html_to_text((const char *)data, size, 64 * 1024));
    fresh = crm_html_to_new_text((const char *)data, size, 64 * 1024);
    if (fresh != NULL)
        g_free(crm_reply_text(fresh, strlen(fresh)));
    g_free(fresh);
    g_free(crm_reply_text((const char *)data, size));
    return 0;
}
