/*
 * NAME
 *	smtp_load - concurrent SMTP clients for the receiver benchmark
 * SYNOPSIS
 *	smtp_load HOST PORT CLIENTS MESSAGES RCPT [TAG]
 * DESCRIPTION
 *	CLIENTS threads, each with its own connection, send MESSAGES mails
 *	in all (about 2 KB, a unique Message-ID per mail, TAG in it) to
 *	RCPT, one after the other per connection. For every mail the time
 *	from the end of DATA ("\r\n.\r\n" sent) to the reply is recorded.
 *	Prints the counts of 2xx/4xx/5xx replies, messages per second over
 *	the whole run, and the p50/p99/max latency. Every 250 is listed to
 *	the file in $SMTP_LOAD_ACCEPTED, one Message-ID per line, when set:
 *	the fault test checks those are stored exactly once. $SMTP_LOAD_PAUSE_MS
 *	makes each client pause between mails, to stretch a run over a fault.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

typedef struct client {
    const char *host, *port, *rcpt, *tag;
    int id;
    unsigned todo;
    GArray *lat;		/* double, ms */
    unsigned ok, temp, perm, broken;
    GPtrArray *accepted;	/* Message-IDs answered 250 */
} client;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
    int fd = -1;

    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd >= 0) {
        /* a reply that never comes is a failure, not a hang */
        struct timeval tv = { .tv_sec = 30 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Read one whole reply (all its lines); returns its code, 0 on EOF. */
static int reply(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *line = buf, *nl;
        /* find the last line of the reply: "NNN " */
        while ((nl = memchr(line, '\n', (size_t)(buf + *have - line))) != NULL) {
            if (nl - line >= 4 && line[3] == ' ') {
                int code = atoi(line);
                size_t used = (size_t)(nl + 1 - buf);
                memmove(buf, nl + 1, *have - used);
                *have -= used;
                return code;
            }
            line = nl + 1;
        }
        if (*have >= cap)
            return 0;
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n <= 0)
            return 0;
        *have += (size_t)n;
    }
}

static int send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static gpointer run(gpointer data)
{
    client *c = data;
    char buf[8192];
    size_t have = 0;
    int fd = -1;
    GString *msg = g_string_new(NULL);

    const char *pause_env = getenv("SMTP_LOAD_PAUSE_MS");
    unsigned pause_ms = pause_env != NULL ? (unsigned)atoi(pause_env) : 0;

    for (unsigned i = 0; i < c->todo; i++) {
        char mid[128];

        if (pause_ms > 0 && i > 0)
            g_usleep((gulong)pause_ms * 1000);
        int code;
        double t0;

        if (fd < 0) {
            have = 0;
            fd = dial(c->host, c->port);
            if (fd < 0 || reply(fd, buf, sizeof buf, &have) != 220) {
                c->broken++;
                if (fd >= 0)
                    close(fd);
                fd = -1;
                g_usleep(100000);
                continue;
            }
            send_all(fd, "EHLO load.example\r\n", 19);
            if (reply(fd, buf, sizeof buf, &have) != 250) {
                c->broken++;
                close(fd);
                fd = -1;
                continue;
            }
        }
        snprintf(mid, sizeof mid, "load-%s-%d-%u@bench.example", c->tag, c->id, i);
        g_string_printf(msg, "MAIL FROM:<user%02d@bench.example>\r\n", c->id % 20 + 1);
        send_all(fd, msg->str, msg->len);
        code = reply(fd, buf, sizeof buf, &have);
        if (code == 250) {
            g_string_printf(msg, "RCPT TO:<%s>\r\n", c->rcpt);
            send_all(fd, msg->str, msg->len);
            code = reply(fd, buf, sizeof buf, &have);
        }
        if (code == 250) {
            send_all(fd, "DATA\r\n", 6);
            code = reply(fd, buf, sizeof buf, &have);
        }
        if (code == 354) {
            g_string_printf(msg, "From: User <user%02d@bench.example>\r\n"
                                 "To: Customer %u <customer%u@company%u.example>\r\n"
                                 "Subject: Load test %u\r\nMessage-ID: <%s>\r\n"
                                 "Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n\r\n",
                            c->id % 20 + 1, i, i % 500, i % 50, i, mid);
            for (int k = 0; k < 25; k++)
                g_string_append(msg, "Thanks for the call; here is the revised proposal for 40 seats.\r\n");
            g_string_append(msg, ".\r\n");
            send_all(fd, msg->str, msg->len);
            t0 = now_ms();
            code = reply(fd, buf, sizeof buf, &have);
            if (code != 0) {
                double ms = now_ms() - t0;
                g_array_append_val(c->lat, ms);
            }
        }
        if (code == 250) {
            c->ok++;
            g_ptr_array_add(c->accepted, g_strdup(mid));
        } else if (code >= 400 && code < 500) {
            c->temp++;
        } else if (code >= 500) {
            c->perm++;
            send_all(fd, "RSET\r\n", 6);
            reply(fd, buf, sizeof buf, &have);
        } else {
            c->broken++;
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) {
        send_all(fd, "QUIT\r\n", 6);
        close(fd);
    }
    g_string_free(msg, TRUE);
    return NULL;
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    unsigned clients, total, ok = 0, temp = 0, perm = 0, broken = 0;
    client *cs;
    GThread **th;
    GArray *all = g_array_new(FALSE, FALSE, sizeof(double));
    const char *accepted_file = getenv("SMTP_LOAD_ACCEPTED");
    FILE *af = NULL;
    double t0, secs;

    if (argc < 6) {
        fprintf(stderr, "usage: smtp_load HOST PORT CLIENTS MESSAGES RCPT [TAG]\n");
        return 2;
    }
    clients = (unsigned)atoi(argv[3]);
    total = (unsigned)atoi(argv[4]);
    if (clients == 0 || total == 0)
        return 2;
    cs = g_new0(client, clients);
    th = g_new0(GThread *, clients);
    t0 = now_ms();
    for (unsigned i = 0; i < clients; i++) {
        cs[i] = (client){ argv[1], argv[2], argv[5], argc > 6 ? argv[6] : "run", (int)i,
                          total / clients + (i < total % clients), g_array_new(FALSE, FALSE, sizeof(double)),
                          0, 0, 0, 0, g_ptr_array_new_with_free_func(g_free) };
        th[i] = g_thread_new("client", run, &cs[i]);
    }
    if (accepted_file != NULL)
        af = fopen(accepted_file, "w");
    for (unsigned i = 0; i < clients; i++) {
        g_thread_join(th[i]);
        ok += cs[i].ok;
        temp += cs[i].temp;
        perm += cs[i].perm;
        broken += cs[i].broken;
        g_array_append_vals(all, cs[i].lat->data, cs[i].lat->len);
        for (guint k = 0; af != NULL && k < cs[i].accepted->len; k++)
            fprintf(af, "%s\n", (char *)cs[i].accepted->pdata[k]);
    }
    if (af != NULL)
        fclose(af);
    secs = (now_ms() - t0) / 1e3;
    g_array_sort(all, cmp_double);
    printf("smtp_load: %u clients, %u messages: %u accepted, %u temporary, %u refused, %u broken\n",
           clients, total, ok, temp, perm, broken);
    if (all->len > 0)
        printf("smtp_load: %.0f msg/s accepted; end of DATA to reply: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
               ok / secs, g_array_index(all, double, all->len / 2),
               g_array_index(all, double, (all->len * 99) / 100 < all->len ? (all->len * 99) / 100 : all->len - 1),
               g_array_index(all, double, all->len - 1));
    /* freed so that LeakSanitizer (contrib/build asan) lets the tests pass */
    for (unsigned i = 0; i < clients; i++) {
        g_array_unref(cs[i].lat);
        g_ptr_array_unref(cs[i].accepted);
    }
    g_free(cs);
    g_free(th);
    g_array_unref(all);
    return 0;
}
