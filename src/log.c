/*
 * NAME
 *	log 3 - log lines and error buffers
 * DESCRIPTION
 *	See log.h. Kept tiny on purpose: the policy of what is worth a line
 *	lives with the callers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_progname = "crmgate";
static crm_log_level log_min = CRM_LOG_INFO;
static bool log_syslog;

void crm_log_use_syslog(bool on)
{
    if (on && !log_syslog)
        openlog(log_progname, LOG_PID, LOG_MAIL);
    log_syslog = on;
}

crm_log_level crm_log_level_parse(const char *name)
{
    if (name == NULL)
        return CRM_LOG_INFO;
    if (strcmp(name, "debug") == 0)
        return CRM_LOG_DEBUG;
    if (strcmp(name, "warning") == 0)
        return CRM_LOG_WARN;
    if (strcmp(name, "error") == 0)
        return CRM_LOG_ERROR;
    return CRM_LOG_INFO;
}

void crm_log_init(const char *progname, crm_log_level min_level)
{
    log_progname = progname;
    log_min = min_level;
}

void crm_log(crm_log_level level, const char *fmt, ...)
{
    static const char *names[] = { "debug", "info", "warning", "error" };
    char line[2048];
    va_list ap;

    if (level < log_min)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_syslog) {
        static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
        syslog(prio[level], "%s: %s", names[level], line);
        return;
    }
    fprintf(stderr, "%s: %s: %s\n", log_progname, names[level], line);
}

void crm_die_msg(const char *fmt, ...)
{
    char line[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", log_progname, line);
}

int crm_err_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
