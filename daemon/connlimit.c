/*
 * Counting connections.  bufferevent_free() clears a bufferevent's
 * callbacks before dropping evhttp's reference; ours keeps it alive, so a
 * sweep that finds all callbacks NULL knows evhttp is done with it and
 * drops the last reference, which closes the socket.
 */
#include <stdlib.h>

#include "connlimit.h"
#include "log.h"
#include "xmalloc.h"

#define CONNLIMIT_SWEEP_MS 100

struct connlimit {
	struct event_base *base;
	unsigned int max;
	struct bufferevent **bevs;
	unsigned int n, cap;
	struct event *sweep;
	int paused;
	void (*pause)(void *, int);
	void *arg;
};

static void
connlimit_update(struct connlimit *cl)
{
	int full = cl->n >= cl->max;

	if (full == cl->paused)
		return;
	cl->paused = full;
	if (full)
		log_warnx("%u connections open: not accepting more for now", cl->n);
	else
		log_info("%u connections open: accepting again", cl->n);
	cl->pause(cl->arg, full);
}

static void
connlimit_arm(struct connlimit *cl)
{
	struct timeval tv = { 0, CONNLIMIT_SWEEP_MS * 1000 };

	if (cl->n > 0 && !evtimer_pending(cl->sweep, NULL))
		evtimer_add(cl->sweep, &tv);
}

static void
connlimit_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connlimit *cl = arg;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	unsigned int i = 0;

	(void)fd;
	(void)what;
	while (i < cl->n) {
		bufferevent_getcb(cl->bevs[i], &rd, &wr, &ev, NULL);
		if (rd != NULL || wr != NULL || ev != NULL) {
			i++;
			continue;
		}
		bufferevent_decref(cl->bevs[i]);
		cl->bevs[i] = cl->bevs[--cl->n];
	}
	connlimit_update(cl);
	connlimit_arm(cl);
}

struct connlimit *
connlimit_new(struct event_base *base, unsigned int max,
    void (*pause)(void *, int), void *arg)
{
	struct connlimit *cl = xcalloc(1, sizeof *cl);

	cl->base = base;
	cl->max = max;
	cl->pause = pause;
	cl->arg = arg;
	if ((cl->sweep = evtimer_new(base, connlimit_sweep_cb, cl)) == NULL)
		fatalx("cannot create the connection sweep timer");
	return cl;
}

void
connlimit_free(struct connlimit *cl)
{
	unsigned int i;

	for (i = 0; i < cl->n; i++)
		bufferevent_decref(cl->bevs[i]);
	free(cl->bevs);
	event_free(cl->sweep);
	free(cl);
}

void
connlimit_set_max(struct connlimit *cl, unsigned int max)
{
	cl->max = max;
	connlimit_update(cl);
}

unsigned int
connlimit_open(const struct connlimit *cl)
{
	return cl->n;
}

struct bufferevent *
connlimit_bev_cb(struct event_base *base, void *arg)
{
	struct connlimit *cl = arg;
	struct bufferevent *bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("cannot create a bufferevent");
	bufferevent_incref(bev);
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 64;
		cl->bevs = xreallocarray(cl->bevs, cl->cap, sizeof *cl->bevs);
	}
	cl->bevs[cl->n++] = bev;
	connlimit_update(cl);
	connlimit_arm(cl);
	return bev;
}
