/*
 * The connection limit.  evhttp (libevent 2.1) has none, so heinzeld makes
 * each connection's bufferevent itself, holds a reference to it, and counts
 * it as open until evhttp lets go of it.  At the limit the listeners stop
 * accepting (new clients wait in the kernel's backlog) and resume below it.
 *
 * It also bounds the time a request may take to arrive: evhttp's timeout
 * is an idle timeout, which a client sending a byte a second never
 * triggers.  A connection that has not delivered a whole request within
 * the request timeout of opening (or of its last answer) is shut down.
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
/* Bytes of answers written but not yet sent, over every connection. */
size_t connlimit_unsent(const struct connlimit *cl);

/* Seconds a whole request may take to arrive; 0 (the default): no bound. */
void connlimit_set_timeout(struct connlimit *cl, unsigned int secs);
/* bev delivered a whole request: no deadline while it is handled. */
void connlimit_request(struct connlimit *cl, struct bufferevent *bev);
/* bev's answer is sent: the next request must arrive within the timeout. */
void connlimit_answered(struct connlimit *cl, struct bufferevent *bev);

/* For evhttp_set_bevcb: a bufferevent for a new connection, counted. */
struct bufferevent *connlimit_bev_cb(struct event_base *base, void *arg);

#endif
