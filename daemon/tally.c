/*
 * Outcome counters of the submissions, written to {P}:stats once a second
 * (tally.h).  A count whose command could not be sent (Redis down, too
 * many commands in flight) or was refused (a replica during a failover:
 * READONLY) stays for the next second; one sent and never answered is
 * lost rather than risked twice.  The last flush, at shutdown, tries
 * once: what it cannot write is lost, and said so.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "store.h"
#include "tally.h"
#include "xmalloc.h"

#define TALLY_INTERVAL_S 1

static const char *const tally_names[TALLY__COUNT] = {
	[TALLY_SUBMITTED_PENDING] = "submitted_pending",
	[TALLY_SUBMITTED_APPROVED] = "submitted_approved",
	[TALLY_SUBMITTED_SPAM] = "submitted_spam",
	[TALLY_CAPTCHA_UNKNOWN] = "captcha_unknown",
	[TALLY_CAPTCHA_WRONG] = "captcha_wrong",
	[TALLY_CAPTCHA_TOO_FAST] = "captcha_too_fast",
	[TALLY_RATE_LIMITED_IP] = "rate_limited_ip",
	[TALLY_RATE_LIMITED_EMAIL] = "rate_limited_email",
	[TALLY_DUPLICATE] = "duplicate",
};

/* One HINCRBY in flight: what to add back if Redis refuses it. */
struct tally_sent {
	struct tally *t;
	enum tally_count c;
	unsigned long long n;
};

struct tally {
	struct db *db;
	const struct store *st;
	struct event *timer;
	unsigned long long count[TALLY__COUNT];
	unsigned int unanswered;	/* HINCRBY sent, no reply yet */
	void (*done)(void *);		/* tally_flush's caller */
	void *done_arg;
};

static void
tally_done(struct tally *t)
{
	void (*done)(void *) = t->done;

	if (done == NULL || t->unanswered != 0)
		return;
	t->done = NULL;
	done(t->done_arg);
}

static void
tally_written_cb(redisReply *reply, void *arg)
{
	struct tally_sent *w = arg;
	struct tally *t = w->t;
	struct timeval tv = { TALLY_INTERVAL_S, 0 };

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    t->done == NULL) {
		log_warnx("redis: %s not counted, again in a second: %s",
		    tally_names[w->c], reply->str);
		t->count[w->c] += w->n;
		if (!evtimer_pending(t->timer, NULL))
			evtimer_add(t->timer, &tv);
	} else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("redis: %s += %llu lost at shutdown: %s",
		    tally_names[w->c], w->n, reply->str);
	else if (reply == NULL)
		log_warnx("redis: no answer to %s += %llu: lost",
		    tally_names[w->c], w->n);
	free(w);
	t->unanswered--;
	tally_done(t);
}

/* final: the shutdown's flush, which keeps nothing for later. */
static void
tally_write(struct tally *t, bool final)
{
	struct tally_sent *w;
	struct store_cmd cmd;
	int i;

	for (i = 0; i < TALLY__COUNT; i++) {
		if (t->count[i] == 0)
			continue;
		store_cmd_init(&cmd);
		store_cmd_adds(&cmd, "HINCRBY");
		store_cmd_key(&cmd, t->st, "stats", NULL);
		store_cmd_adds(&cmd, tally_names[i]);
		store_cmd_addf(&cmd, "%llu", t->count[i]);
		w = xmalloc(sizeof *w);
		w->t = t;
		w->c = (enum tally_count)i;
		w->n = t->count[i];
		if (db_command(t->db, &cmd, -1, tally_written_cb, w) != 0) {
			free(w);
			break;		/* kept for the next second */
		}
		t->count[i] = 0;
		t->unanswered++;
	}
	for (; i < TALLY__COUNT; i++) {
		if (t->count[i] == 0)
			continue;
		if (final) {
			log_warnx("redis: %s += %llu lost at shutdown: "
			    "Redis is not reachable", tally_names[i],
			    t->count[i]);
			t->count[i] = 0;
		} else {
			struct timeval tv = { TALLY_INTERVAL_S, 0 };

			evtimer_add(t->timer, &tv);
			break;
		}
	}
}

static void
tally_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tally_write(arg, false);
}

struct tally *
tally_new(struct event_base *base, struct db *db, const struct store *st)
{
	struct tally *t = xcalloc(1, sizeof *t);

	t->db = db;
	t->st = st;
	if ((t->timer = evtimer_new(base, tally_timer_cb, t)) == NULL)
		fatalx("cannot create the counters' timer");
	return t;
}

void
tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	event_free(t->timer);
	free(t);
}

void
tally_add(struct tally *t, enum tally_count c)
{
	struct timeval tv = { TALLY_INTERVAL_S, 0 };

	t->count[c]++;
	if (!evtimer_pending(t->timer, NULL))
		evtimer_add(t->timer, &tv);
}

bool
tally_idle(const struct tally *t)
{
	int i;

	for (i = 0; i < TALLY__COUNT; i++)
		if (t->count[i] != 0)
			return false;
	return t->unanswered == 0;
}

void
tally_flush(struct tally *t, void (*done)(void *), void *arg)
{
	evtimer_del(t->timer);
	t->done = done;
	t->done_arg = arg;
	tally_write(t, true);
	tally_done(t);
}
