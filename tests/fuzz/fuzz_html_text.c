/*
 * fuzz_html_text - libFuzzer target: HTML to readable text (libxml2's
 * HTML parser underneath), bounded output.
 */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "html_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_free(crm_html_to_text((const char *)data, size, 64 * 1024));
    return 0;
}
