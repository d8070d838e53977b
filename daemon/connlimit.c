/*
 * Counting connections.  bufferevent_free() clears a bufferevent's
 * callbacks before dropping evhttp's reference; ours keeps it alive, so a
 * sweep that finds all callbacks NULL knows evhttp is done with it and
 * drops the last reference, which closes the socket.  The same sweep
 * shuts down connections past their request deadline: evhttp then reads
 * end of file and frees the connection its usual way.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>

#include "clock.h"
#include "connlimit.h"
#include "log.h"
#include "xmalloc.h"

#define CONNLIMIT_SWEEP_MS 100

struct connlimit_conn {
	struct bufferevent *bev;
	uint64_t deadline_ms;		/* 0: a request is being handled */
};

struct connlimit {
	struct event_base *base;
	unsigned int max;
	unsigned int timeout_ms;
	struct connlimit_conn *conns;
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

static struct connlimit_conn *
connlimit_find(struct connlimit *cl, struct bufferevent *bev)
{
	unsigned int i;

	for (i = 0; i < cl->n; i++)
		if (cl->conns[i].bev == bev)
			return &cl->conns[i];
	return NULL;
}

static uint64_t
connlimit_deadline(const struct connlimit *cl)
{
	return cl->timeout_ms ? clock_mono_ms() + cl->timeout_ms : 0;
}

static void
connlimit_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connlimit *cl = arg;
	struct connlimit_conn *c;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	uint64_t now = clock_mono_ms();
	unsigned int i = 0;
	evutil_socket_t s;

	(void)fd;
	(void)what;
	while (i < cl->n) {
		c = &cl->conns[i];
		bufferevent_getcb(c->bev, &rd, &wr, &ev, NULL);
		if (rd == NULL && wr == NULL && ev == NULL) {
			bufferevent_decref(c->bev);
			*c = cl->conns[--cl->n];
			continue;
		}
		if (c->deadline_ms != 0 && now >= c->deadline_ms &&
		    (s = bufferevent_getfd(c->bev)) != -1) {
			log_debug("connection sent no whole request in %u ms: "
			    "closing it", cl->timeout_ms);
			shutdown(s, SHUT_RDWR);
			c->deadline_ms = 0;
		}
		i++;
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
		bufferevent_decref(cl->conns[i].bev);
	free(cl->conns);
	event_free(cl->sweep);
	free(cl);
}

void
connlimit_set_max(struct connlimit *cl, unsigned int max)
{
	cl->max = max;
	connlimit_update(cl);
}

size_t
connlimit_unsent(const struct connlimit *cl)
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < cl->n; i++)
		n += evbuffer_get_length(bufferevent_get_output(cl->conns[i].bev));
	return n;
}

unsigned int
connlimit_open(const struct connlimit *cl)
{
	return cl->n;
}

void
connlimit_set_timeout(struct connlimit *cl, unsigned int secs)
{
	cl->timeout_ms = secs * 1000;
}

void
connlimit_request(struct connlimit *cl, struct bufferevent *bev)
{
	struct connlimit_conn *c;

	if ((c = connlimit_find(cl, bev)) != NULL)
		c->deadline_ms = 0;
}

void
connlimit_answered(struct connlimit *cl, struct bufferevent *bev)
{
	struct connlimit_conn *c;

	if ((c = connlimit_find(cl, bev)) != NULL)
		c->deadline_ms = connlimit_deadline(cl);
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
		cl->conns = xreallocarray(cl->conns, cl->cap, sizeof *cl->conns);
	}
	cl->conns[cl->n].bev = bev;
	cl->conns[cl->n].deadline_ms = connlimit_deadline(cl);
	cl->n++;
	connlimit_update(cl);
	connlimit_arm(cl);
	return bev;
}
