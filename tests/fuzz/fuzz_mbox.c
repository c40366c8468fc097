/*
 * fuzz_mbox - libFuzzer target: splitting an mbox file into messages and
 * undoing the ">From " quoting of each.
 */
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "mbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_mbox_iter it;
    const char *msg;
    size_t len, offset, out_len;

    (void)crm_mbox_sniff((const char *)data, size);
    crm_mbox_iter_init(&it, (const char *)data, size);
    while (crm_mbox_next(&it, &msg, &len, &offset)) {
        char *plain = crm_mbox_unescape(msg, len, &out_len);
        g_free(plain);
    }
    return 0;
}
