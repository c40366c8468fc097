/*
 * fuzz_auth_results - libFuzzer target: a message's Authentication-Results
 * fields found in its header block, and each of them read.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth_results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GPtrArray *fields = crm_auth_results_fields((const char *)data, size);

    for (guint i = 0; i < fields->len; i++) {
        crm_auth_results *ar = crm_auth_results_parse(fields->pdata[i], strlen(fields->pdata[i]));
        for (size_t k = 0; ar != NULL && k < ar->n_results; k++)
            (void)crm_auth_result_prop(&ar->results[k], "header.from");
        crm_auth_results_free(ar);
    }
    g_ptr_array_free(fields, TRUE);
    /* the bytes as one field's value, too */
    crm_auth_results_free(crm_auth_results_parse((const char *)data, size));
    return 0;
}
