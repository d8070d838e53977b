/*
 * The connection limit.  evhttp (libevent 2.1) has none, so heinzeld makes
 * each connection's bufferevent itself, holds a reference to it, and counts
 * it as open until evhttp lets go of it.  At the limit the listeners stop
 * accepting (new clients wait in the kernel's backlog) and resume below it.
 */
#ifndef HEINZEL_CONNLIMIT_H
#define HEINZEL_CONNLIMIT_H

#include <event2/bufferevent.h>
#include <event2/event.h>

struct connlimit;

/* pause(arg, 1) at the limit, pause(arg, 0) below it again. */
struct connlimit *connlimit_new(struct event_base *base, unsigned int max,
    void (*pause)(void *, int), void *arg);
void connlimit_free(struct connlimit *cl);
void connlimit_set_max(struct connlimit *cl, unsigned int max);
unsigned int connlimit_open(const struct connlimit *cl);

/* For evhttp_set_bevcb: a bufferevent for a new connection, counted. */
struct bufferevent *connlimit_bev_cb(struct event_base *base, void *arg);

#endif
