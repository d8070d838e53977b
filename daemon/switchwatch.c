/*
 * SUBSCRIBE +switch-master +promoted-slave on one Sentinel (see
 * switchwatch.h).  The Sentinel that leads a failover publishes
 * +promoted-slave ("slave IP:PORT IP PORT @ NAME OLD-IP OLD-PORT") once
 * the replica it chose answers as master, and +switch-master ("NAME
 * OLD-IP OLD-PORT NEW-IP NEW-PORT") only after the other replicas follow
 * it, which can take seconds; the other Sentinels publish +switch-master
 * as soon as they learn of the new master.  hiredis keeps calling the
 * SUBSCRIBE callback for every message until the connection goes, then
 * once with NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "log.h"
#include "sentinel.h"
#include "store.h"
#include "switchwatch.h"
#include "xmalloc.h"

#define SWITCHWATCH_RETRY_MS 500	/* before the next Sentinel */
#define SWITCHWATCH_ROUND_MS 5000	/* after all of them failed */

struct switchwatch {
	struct event_base *base;
	const struct store_addr *addr;	/* sentinels, master_name, password */
	size_t nsentinels, next;
	switchwatch_cb *cb;
	void *arg;
	redisAsyncContext *ac;
	struct event *retry;
	const char *current;		/* the Sentinel subscribed to */
	int subscribed;
	int logged_down;		/* failures said once, until subscribed */
};

static void switchwatch_connect(struct switchwatch *w);

/*
 * The next Sentinel soon (at once after a lost subscription), or all of
 * them again after a pause when a whole round failed.
 */
static void
switchwatch_later(struct switchwatch *w)
{
	unsigned int ms = w->subscribed ? 0 : w->next == 0 ?
	    SWITCHWATCH_ROUND_MS : SWITCHWATCH_RETRY_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	w->subscribed = 0;
	/* Said once until a subscription works again, not every round. */
	if (w->next == 0 && !w->logged_down) {
		log_warnx("redis: no Sentinel to subscribe to +switch-master, "
		    "retrying every %us; failovers are noticed by a lost "
		    "connection meanwhile", SWITCHWATCH_ROUND_MS / 1000);
		w->logged_down = 1;
	}
	evtimer_add(w->retry, &tv);
}

static void
switchwatch_message(redisAsyncContext *ac, void *r, void *privdata)
{
	struct switchwatch *w = ac->data;
	redisReply *reply = r, *kind, *chan, *text;
	char name[256], oldip[256], newip[256];
	int oldport, newport, n;

	(void)privdata;
	if (w == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return;
	kind = reply->element[0];
	chan = reply->element[1];
	text = reply->element[2];
	if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "subscribe") == 0) {
		if (text->type == REDIS_REPLY_INTEGER && text->integer == 2) {
			log_info("redis: subscribed to +switch-master at "
			    "Sentinel %s", w->current);
			w->subscribed = 1;
			w->logged_down = 0;
		}
		return;
	}
	if (strcmp(kind->str, "message") != 0 ||
	    text->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(chan->str, "+promoted-slave") == 0)
		n = sscanf(text->str, "slave %*s %255s %d @ %255s %255s %d",
		    newip, &newport, name, oldip, &oldport) == 5;
	else
		n = sscanf(text->str, "%255s %255s %d %255s %d", name, oldip,
		    &oldport, newip, &newport) == 5;
	if (!n || newport < 1 || newport > 65535) {
		log_warnx("redis: Sentinel %s: unexpected %s %s", w->current,
		    chan->str, text->str);
		return;
	}
	if (strcmp(name, w->addr->master_name) != 0)
		return;
	log_info("redis: Sentinel %s announces %s:%d the master of %s (was "
	    "%s:%d, %s)", w->current, newip, newport, name, oldip, oldport,
	    chan->str);
	w->cb(newip, newport, w->arg);
}

static int
switchwatch_subscribe(redisAsyncContext *ac)
{
	return redisAsyncCommand(ac, switchwatch_message, NULL,
	    "SUBSCRIBE +switch-master +promoted-slave");
}

/* AUTH answered: subscribe, or say why not and try the next Sentinel. */
static void
switchwatch_authed(redisAsyncContext *ac, void *r, void *privdata)
{
	struct switchwatch *w = ac->data;
	redisReply *reply = r;

	(void)privdata;
	if (w == NULL || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		if (w->logged_down)
			log_debug("redis: Sentinel %s refused the login: %s",
			    w->current, reply->str);
		else
			log_warnx("redis: Sentinel %s refused the login: %s "
			    "(check [redis] sentinel_password_file)",
			    w->current, reply->str);
		redisAsyncDisconnect(ac);
		return;
	}
	if (switchwatch_subscribe(ac) != REDIS_OK)
		redisAsyncDisconnect(ac);
}

static void
switchwatch_connected(const redisAsyncContext *ac, int status)
{
	struct switchwatch *w = ac->data;

	if (w == NULL)
		return;
	if (status != REDIS_OK) {
		log_debug("redis: Sentinel %s: %s", w->current, ac->errstr);
		w->ac = NULL;	/* hiredis frees it after this callback */
		switchwatch_later(w);
		return;
	}
	/*
	 * The connection only ever receives: TCP keepalive (hiredis: every
	 * 15 s) notices a Sentinel host that vanished, and the next one is
	 * subscribed to.
	 */
	redisEnableKeepAlive(&w->ac->c);
}

static void
switchwatch_disconnected(const redisAsyncContext *ac, int status)
{
	struct switchwatch *w = ac->data;

	(void)status;
	if (w == NULL)
		return;
	if (w->subscribed)
		log_warnx("redis: subscription at Sentinel %s lost: %s",
		    w->current, ac->errstr[0] ? ac->errstr : "disconnected");
	w->ac = NULL;
	switchwatch_later(w);
}

static void
switchwatch_connect(struct switchwatch *w)
{
	redisAsyncContext *ac;
	struct store_cmd auth;
	char *host, *cause;
	int port, rc;

	w->current = w->addr->sentinels[w->next];
	w->next = (w->next + 1) % w->nsentinels;
	if (store_addr_sentinel_auth(w->addr, &auth, &cause) != 0) {
		if (!w->logged_down)
			log_warnx("redis: %s", cause);
		free(cause);
		switchwatch_later(w);
		return;
	}
	if (sentinel_parse(w->current, &host, &port) != 0) {
		store_cmd_free(&auth);
		switchwatch_later(w);	/* config.c checked: not reached */
		return;
	}
	ac = redisAsyncConnect(host, port);
	free(host);
	if (ac == NULL)
		fatalx("redis: out of memory");
	if (ac->err) {
		log_debug("redis: Sentinel %s: %s", w->current, ac->errstr);
		redisAsyncFree(ac);
		store_cmd_free(&auth);
		switchwatch_later(w);
		return;
	}
	ac->data = w;
	w->ac = ac;
	redisLibeventAttach(ac, w->base);
	redisAsyncSetConnectCallback(ac, switchwatch_connected);
	redisAsyncSetDisconnectCallback(ac, switchwatch_disconnected);
	/* SUBSCRIBE only after a good AUTH: hiredis would mistake an error
	   for it in subscribed mode. */
	if (auth.argc > 0)
		rc = redisAsyncCommandArgv(ac, switchwatch_authed, NULL,
		    auth.argc, auth.argv, auth.argvlen);
	else
		rc = switchwatch_subscribe(ac);
	store_cmd_free(&auth);
	if (rc != REDIS_OK) {
		ac->data = NULL;
		w->ac = NULL;
		redisAsyncFree(ac);
		switchwatch_later(w);
	}
}

static void
switchwatch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	switchwatch_connect(arg);
}

struct switchwatch *
switchwatch_new(struct event_base *base, const struct store_addr *a,
    switchwatch_cb *cb, void *arg)
{
	struct switchwatch *w = xcalloc(1, sizeof *w);

	w->base = base;
	w->addr = a;
	while (a->sentinels[w->nsentinels] != NULL)
		w->nsentinels++;
	w->cb = cb;
	w->arg = arg;
	if ((w->retry = evtimer_new(base, switchwatch_retry_cb, w)) == NULL)
		fatalx("redis: cannot create the Sentinel subscription's timer");
	switchwatch_connect(w);
	return w;
}

void
switchwatch_free(struct switchwatch *w)
{
	if (w->ac != NULL) {
		w->ac->data = NULL;	/* the callbacks must not touch w */
		redisAsyncFree(w->ac);
	}
	event_free(w->retry);
	free(w);
}
