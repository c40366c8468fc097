/*
 * NAME
 *	utf8 3 - is it valid UTF-8, quickly
 * DESCRIPTION
 *	See utf8.h.
 */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "utf8.h"

bool crm_utf8_valid(const char *s, size_t len)
{
    /* a NUL is ASCII to the word test: glib, which refuses it, checks
     * the rest from the first word with a byte outside 0x01..0x7f */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t word;
    size_t i = 0;

    for (; i + sizeof word <= len; i += sizeof word) {
        memcpy(&word, s + i, sizeof word);
        if (((word | ((word - ones) & ~word)) & high) != 0)
            break;
    }
    return g_utf8_validate(s + i, (gssize)(len - i), NULL);
}
