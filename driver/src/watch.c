/*
 * watch.c - the socket an event loop watches for one connection.
 *
 * The loop is never given libpq's descriptor but a duplicate of it owned
 * here (w->fd): the same open file description, so readiness is identical,
 * but closed only here, always after its registrations are removed.
 * libpq closes its own descriptor when it likes (end of file or an error
 * inside PQconsumeInput, the next host or address inside PQconnectPoll),
 * and the number is soon reused by another socket; registering libpq's
 * number would let a later unregistration drop another connection's
 * registration, and would keep a registration that the kernel silently
 * dropped when the first socket closed.  The duplicate follows every
 * change of PQsocket(): while connecting, the socket's identity
 * (st_dev/st_ino) is compared, not its number.
 *
 * The adapter's hooks register and unregister interest in the duplicate;
 * they are called only on a change, so calling pgd_watch_read() /
 * pgd_watch_write() again with the same wish does nothing (idempotent).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void pgd_watch_init(pgd_watch *w, const pgd_watch_hooks *hooks, void *arg)
{
    w->fd = w->src_fd = -1;
    w->reading = w->writing = 0;
    w->hooks = hooks;
    w->arg = arg;
}

/* Unregister both; failures (a closed loop) do not matter here. */
static void unregister(pgd_watch *w)
{
    if (w->fd < 0)
        return;
    if (w->writing)
        w->hooks->del_write(w->arg, w->fd);
    if (w->reading)
        w->hooks->del_read(w->arg, w->fd);
    w->reading = w->writing = 0;
}

void pgd_watch_drop(pgd_watch *w)
{
    unregister(w);
    if (w->fd >= 0)
        close(w->fd);
    w->fd = w->src_fd = -1;
}

static int change(pgd_watch *w, int *flag, int on, int (*add)(void *, int),
                  void (*del)(void *, int))
{
    on = on != 0;
    if (on == *flag)
        return 0;
    if (w->fd < 0)
        return -2;
    if (on) {
        if (add(w->arg, w->fd) < 0)
            return -1;
    } else {
        del(w->arg, w->fd);
    }
    *flag = on;
    return 0;
}

int pgd_watch_read(pgd_watch *w, int on)
{
    return change(w, &w->reading, on, w->hooks->add_read, w->hooks->del_read);
}

int pgd_watch_write(pgd_watch *w, int on)
{
    return change(w, &w->writing, on, w->hooks->add_write, w->hooks->del_write);
}

/* Whether descriptors a and b refer to the same socket. */
static int same_socket(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int pgd_watch_follow(pgd_watch *w, const pgd_conn *c, int check_identity)
{
    int fd = pgd_conn_socket(c), d;

    if (fd < 0) {
        pgd_watch_drop(w);
        return -1;
    }
    if (w->fd >= 0 && fd == w->src_fd && (!check_identity || same_socket(fd, w->fd)))
        return 0;
    pgd_watch_drop(w);
    d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0)
        return -2;
    w->fd = d;
    w->src_fd = fd;
    return 0;
}

int pgd_watch_stale(const pgd_watch *w, const pgd_conn *c)
{
    return pgd_conn_socket(c) != w->src_fd;
}

int pgd_watch_hung_up(const pgd_watch *w)
{
    struct pollfd p;

    if (w->fd < 0)
        return 0;
    p.fd = w->fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}
