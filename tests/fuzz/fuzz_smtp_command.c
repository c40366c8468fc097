/*
 * fuzz_smtp_command - libFuzzer target: one SMTP/LMTP command line as a
 * client may send it (the session has already cut the line).
 */
#include <stddef.h>
#include <stdint.h>

#include "smtp_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crm_smtp_command cmd = { 0 };
    char err[256];

    (void)crm_smtp_parse((const char *)data, size, &cmd, err, sizeof err);
    crm_smtp_command_clear(&cmd);
    return 0;
}
