/*
 * Failover notices from Redis Sentinel.  One SUBSCRIBE connection
 * (+switch-master and +promoted-slave) to one Sentinel at a time, on the
 * event loop; when it fails
 * or drops, the next Sentinel of the list is tried a moment later.  Each
 * announcement that names our master's new address is passed on at once,
 * so heinzeld moves to the new master as soon as a Sentinel says so instead
 * of only after a lost connection or a READONLY answer (which still work
 * when no Sentinel can be subscribed to).
 */
#ifndef HEINZEL_SWITCHWATCH_H
#define HEINZEL_SWITCHWATCH_H

#include <event2/event.h>

struct store_addr;
struct switchwatch;

/* host and port: the new master of the watched name. */
typedef void switchwatch_cb(const char *host, int port, void *arg);

/*
 * Watch a's Sentinels for a->master_name (a must outlive the watch; its
 * sentinel_password_file is read at each connect).
 */
struct switchwatch *switchwatch_new(struct event_base *base,
    const struct store_addr *a, switchwatch_cb *cb, void *arg);
void switchwatch_free(struct switchwatch *w);

#endif
