/*
 * fuzz_mail - libFuzzer target: the MIME parser, then forwarded-mail
 * detection on what it returns. Any input must end in a message or a
 * refusal, within the default limits.
 */
#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "mail_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    crm_parse_limits lim;
    crm_message *msg = NULL;
    char why[512];

    if (!ready) {
        crm_parsers_init();
        ready = 1;
    }
    crm_parse_limits_default(&lim);
    (void)crm_message_sniff((const char *)data, size);
    if (crm_message_parse((const char *)data, size, &lim, &msg, why, sizeof why) == CRM_PARSE_OK) {
        crm_forward *f = crm_forward_detect(msg, &lim);
        crm_forward_free(f);
        crm_message_free(msg);
    }
    return 0;
}
