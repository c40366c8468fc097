/*
 * fuzz_calendar - libFuzzer target: iCalendar files and invitations,
 * recurrences expanded within the default window and limits. Any input
 * must end in events or a refusal, in bounded time.
 */
#include <stddef.h>
#include <stdint.h>

#include "calendar_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    crm_calendar *cal = NULL;
    char why[512];

    if (!ready) {
        crm_calendar_init();
        ready = 1;
    }
    (void)crm_calendar_sniff((const char *)data, size);
    if (crm_calendar_parse((const char *)data, size, NULL, &cal, why, sizeof why) == CRM_CAL_OK)
        crm_calendar_free(cal);
    return 0;
}
