/*
 * test_watch.c - the socket an event loop watches (driver/src/watch.c),
 * over a real connection, with hooks that record what the loop would be
 * asked: the registered descriptor is a duplicate of libpq's socket, never
 * libpq's own; interest is registered only on a change; the duplicate is
 * unregistered while it is still open, then closed; a socket libpq gave up
 * is noticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tutil.h"

struct rec {
    char log[256]; /* "+r3 -w3 ..." */
    int open_at_del; /* every del hook found its descriptor open */
    int fail_add;
};

static void logf_(struct rec *r, char op, char kind, int fd)
{
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof r->log - n, "%s%c%c", n ? " " : "", op, kind);
    (void)fd;
}

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static int add_read(void *arg, int fd)
{
    struct rec *r = arg;
    if (r->fail_add)
        return -1;
    logf_(r, '+', 'r', fd);
    return 0;
}
static void del_read(void *arg, int fd)
{
    struct rec *r = arg;
    r->open_at_del &= is_open(fd);
    logf_(r, '-', 'r', fd);
}
static int add_write(void *arg, int fd)
{
    struct rec *r = arg;
    if (r->fail_add)
        return -1;
    logf_(r, '+', 'w', fd);
    return 0;
}
static void del_write(void *arg, int fd)
{
    struct rec *r = arg;
    r->open_at_del &= is_open(fd);
    logf_(r, '-', 'w', fd);
}

static const pgd_watch_hooks hooks = {add_read, del_read, add_write, del_write};

static int same_socket(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void test_no_socket(void)
{
    struct rec r = {"", 1, 0};
    pgd_watch w;
    pgd_watch_init(&w, &hooks, &r);
    CHECK(w.fd == -1);
    /* nothing to register on */
    CHECK(pgd_watch_read(&w, 1) == -2);
    CHECK(pgd_watch_read(&w, 0) == 0); /* no change asked */
    CHECK(!pgd_watch_hung_up(&w));
    pgd_watch_drop(&w);
    CHECK_STREQ(r.log, "");
}

static void test_follow(void)
{
    struct rec r = {"", 1, 0};
    pgd_watch w;
    pgd_conn *c = t_connect();
    int libpq_fd = pgd_conn_socket(c);

    pgd_watch_init(&w, &hooks, &r);
    CHECK(pgd_watch_follow(&w, c, 1) == 0);
    CHECK(w.fd >= 0 && w.fd != libpq_fd && w.src_fd == libpq_fd);
    CHECK(same_socket(w.fd, libpq_fd));
    int dup = w.fd;
    /* the same socket: kept, nothing registered anew */
    CHECK(pgd_watch_follow(&w, c, 1) == 0 && w.fd == dup);
    CHECK(pgd_watch_follow(&w, c, 0) == 0 && w.fd == dup);
    CHECK(!pgd_watch_stale(&w, c));

    /* idempotent: the hooks hear of changes only */
    CHECK(pgd_watch_read(&w, 1) == 0);
    CHECK(pgd_watch_read(&w, 1) == 0);
    CHECK(pgd_watch_write(&w, 1) == 0);
    CHECK(pgd_watch_write(&w, 0) == 0);
    CHECK(pgd_watch_write(&w, 0) == 0);
    CHECK(pgd_watch_write(&w, 1) == 0);
    CHECK_STREQ(r.log, "+r +w -w +w");
    CHECK(w.reading && w.writing);

    /* a failed add changes nothing */
    r.log[0] = '\0';
    CHECK(pgd_watch_write(&w, 0) == 0);
    r.fail_add = 1;
    CHECK(pgd_watch_write(&w, 1) == -1);
    CHECK(!w.writing);
    r.fail_add = 0;
    CHECK_STREQ(r.log, "-w");

    /* the connection works through its own descriptor meanwhile */
    CHECK_SCALAR(c, "SELECT 1", "1");
    CHECK(!pgd_watch_hung_up(&w));

    /* shut down under the watch: the duplicate says so, libpq's socket is
     * gone; dropping unregisters before it closes */
    pgd_conn_disconnect(c);
    CHECK(pgd_watch_stale(&w, c));
    CHECK(pgd_watch_hung_up(&w));
    r.log[0] = '\0';
    pgd_watch_drop(&w);
    CHECK_STREQ(r.log, "-r");
    CHECK(r.open_at_del);
    CHECK(w.fd == -1 && !w.reading && !w.writing);
    CHECK(!is_open(dup));
    /* following a connection without a socket drops nothing more */
    CHECK(pgd_watch_follow(&w, c, 1) == -1);
    CHECK_STREQ(r.log, "-r");
    pgd_conn_free(c);
}

/* A new socket (the next host, a reconnect) gets a new duplicate, and the
 * old one is unregistered and closed first, even when libpq reuses the
 * descriptor number. */
static void test_new_socket(void)
{
    struct rec r = {"", 1, 0};
    pgd_watch w;
    pgd_conn *a = t_connect();

    pgd_watch_init(&w, &hooks, &r);
    CHECK(pgd_watch_follow(&w, a, 1) == 0);
    CHECK(pgd_watch_read(&w, 1) == 0);
    int old_dup = w.fd;
    pgd_conn_free(a); /* libpq closes old_src; the duplicate stays open */
    CHECK(is_open(old_dup));
    pgd_conn *b = t_connect(); /* most likely gets old_src's number again */
    r.log[0] = '\0';
    CHECK(pgd_watch_follow(&w, b, 1) == 0);
    CHECK_STREQ(r.log, "-r");
    CHECK(r.open_at_del);
    CHECK(w.src_fd == pgd_conn_socket(b));
    CHECK(same_socket(w.fd, pgd_conn_socket(b)));
    CHECK(!w.reading); /* a new duplicate starts with nothing registered */
    pgd_watch_drop(&w);
    pgd_conn_free(b);
}

int main(void)
{
    test_no_socket();
    test_follow();
    test_new_socket();
    return t_done("test_watch");
}
