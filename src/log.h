/*
 * NAME
 *	log 3h - log lines and error buffers
 * DESCRIPTION
 *	One line per event on stderr, or syslog (facility mail) when the
 *	configuration says so, with a level. Library code does not log: it returns an error and
 *	fills a caller's buffer with crm_err_set(); only commands and the
 *	daemon loop decide what to print.
 */
#ifndef CRM_LOG_H
#define CRM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

typedef enum crm_log_level {
    CRM_LOG_DEBUG, CRM_LOG_INFO, CRM_LOG_WARN, CRM_LOG_ERROR
} crm_log_level;

/* "debug", "info", "warning", "error"; anything else is info. */
crm_log_level crm_log_level_parse(const char *name);
void crm_log_init(const char *progname, crm_log_level min_level);
/* Send log lines to syslog (facility mail) instead of stderr. */
void crm_log_use_syslog(bool on);
void crm_log(crm_log_level level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Print "crmgate: <text>" on stderr: the CLI's user-facing error line. */
void crm_die_msg(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Format into err (bounded, always terminated when errlen > 0). Returns -1
 * so that "return crm_err_set(...)" reads naturally. */
int crm_err_set(char *err, size_t errlen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
