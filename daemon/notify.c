/*
 * The notifier.  It reads the outbox stream through the consumer group
 * (XREADGROUP, never BLOCK: db.c has one connection and a command
 * timeout), polled every NOTIFY_POLL_MS and woken by a stored submission.
 * An event entry is expanded into notifications by one script (an event
 * the configuration makes nothing of is only acknowledged, with the rest
 * of its read in one XACK); a notification entry is loaded, built into a
 * mail or a JSON body (notice.c) and sent (deliver.c: libcurl on the
 * event loop).  The entry is acknowledged only after the relay's final
 * 250 (or a webhook's 2xx); a failure moves it to the retry schedule or
 * the dead letters in one script.  Entries done are dropped from the
 * stream by the trim script, once a poll, not one by one.  Nothing is
 * held only in memory: after a crash, this consumer's unacknowledged
 * entries are read again (its name is stable: host and socket), and
 * entries of a consumer gone for good are taken over with XAUTOCLAIM.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "notice.h"
#include "notify.h"
#include "store.h"
#include "store_outbox.h"
#include "xmalloc.h"

#define NOTIFY_POLL_MS		1000	/* look at the outbox this often */
#define NOTIFY_PARALLEL		8	/* deliveries at once */
#define NOTIFY_CLAIM_EVERY_MS	30000	/* at most this long between looks for
					   entries of lost consumers */
#define NOTIFY_DUE_BATCH	100
#define NOTIFY_BATCH_MS		20	/* a stored comment wakes the notifier
					   at most this often: under load, one
					   read takes many entries */

enum notify_step {
	STEP_EXPAND,		/* an event: its reads and the expand script run */
	STEP_LOAD,		/* a notification: HGETALL runs */
	STEP_SEND,		/* deliver.c is at work */
	STEP_FINISH,		/* done or fail script to run (again) */
};

struct notify_job {
	struct notify *n;
	TAILQ_ENTRY(notify_job) entry;
	enum notify_step step;
	int busy;		/* a Redis command is in flight */
	int queued;		/* an event waiting for the expansion before it */
	char *entry_id;
	char *nid;		/* NULL for an event or an empty entry */
	char *channel;		/* "mail", "webhook", or NULL */
	char *address;		/* its store_note_address, an event's comment's
				   e-mail address, or NULL */
	char *event;		/* an event: "pending" or "approved" */
	char *comment;		/* an event: its comment */
	char *what;		/* for the log: "admin mail 5 (comment ID) to …@example.org" */

	struct deliver_job *dj;	/* being sent */

	int ok;
	int permanent;
	char *reason;
};

struct notify {
	struct event_base *base;
	struct db *db;
	const struct store *store;
	const struct config *const *cfg;
	struct metrics *metrics;
	char *consumer;		/* "host:/run/heinzel/heinzel.sock" */

	struct deliver *deliver;

	struct event *tick;
	struct event *kick;
	TAILQ_HEAD(, notify_job) jobs;
	unsigned int njobs;
	struct notify_job *expanding;	/* the one event being expanded */

	int was_up;
	int group_ready, group_busy;
	int reading, due_busy, claim_busy, trim_busy;
	uint64_t last_read_ms;		/* clock_mono_ms of the last read */
	unsigned long long done;	/* entries acknowledged since the trim */
	char history[64];	/* own pending entries after this id; "" = new ones */
	uint64_t last_claim_ms;
};

static void notify_finish(struct notify_job *job);
static void notify_expand(struct notify_job *job);

void
notify_wake(struct notify *n)
{
	struct timeval tv = { 0, 0 };

	evtimer_add(n->kick, &tv);
}

/*
 * A comment was stored: look at once, unless the last read was less than
 * NOTIFY_BATCH_MS ago; then at that time, with whatever came meanwhile.
 * With nobody to tell, the submit script wrote no event: nothing to read.
 */
static void
notify_wake_cb(void *arg)
{
	struct notify *n = arg;
	uint64_t since = clock_mono_ms() - n->last_read_ms;
	struct timeval tv = { 0, 0 };
	struct store_notify nt;

	notify_channels(*n->cfg, &nt);
	if (evtimer_pending(n->kick, NULL) || (!store_notify_makes(&nt,
	    "pending") && !store_notify_makes(&nt, "approved")))
		return;
	if (since < NOTIFY_BATCH_MS)
		tv.tv_usec = (suseconds_t)(NOTIFY_BATCH_MS - since) * 1000;
	evtimer_add(n->kick, &tv);
}

void
notify_channels(const struct config *cfg, struct store_notify *nt)
{
	memset(nt, 0, sizeof *nt);
	if (config_mail_on(cfg)) {
		nt->admin = cfg->notify_admin;
		nt->on_receipt = cfg->author_on_receipt;
		nt->receipt_interval = cfg->receipt_interval;
		nt->on_approve = cfg->author_on_approve;
	}
	nt->webhook = cfg->notify_webhook[0] != '\0';
	nt->lang = cfg->notify_lang;
}

/* Redis failed us: read this consumer's own entries again once it is back. */
static void
notify_lost(struct notify *n)
{
	snprintf(n->history, sizeof n->history, "0");
}

/* "…@example.org": enough to tell recipients apart in a log, no address. */
static char *
notify_masked(const char *to)
{
	const char *at = strrchr(to, '@');
	char *s;

	xasprintf(&s, "\xe2\x80\xa6%s", at != NULL ? at : "");
	return s;
}

static struct notify_job *
notify_job_new(struct notify *n, const char *entry_id)
{
	struct notify_job *job = xcalloc(1, sizeof *job);

	job->n = n;
	job->entry_id = xstrdup(entry_id);
	TAILQ_INSERT_TAIL(&n->jobs, job, entry);
	n->njobs++;
	return job;
}

static void
notify_job_free(struct notify_job *job)
{
	struct notify *n = job->n;
	struct notify_job *next;

	TAILQ_REMOVE(&n->jobs, job, entry);
	n->njobs--;
	if (n->expanding == job) {
		/* Its expansion ended: the next event waiting, in read order. */
		n->expanding = NULL;
		TAILQ_FOREACH(next, &n->jobs, entry)
			if (next->queued) {
				next->queued = 0;
				notify_expand(next);
				break;
			}
	}
	if (job->dj != NULL)
		deliver_cancel(job->dj);
	free(job->entry_id);
	free(job->nid);
	free(job->channel);
	free(job->address);
	free(job->event);
	free(job->comment);
	free(job->what);
	free(job->reason);
	free(job);
}

/* The delivery ended (deliver.c): record it. */
static void
notify_sent(int ok, int permanent, const char *reason, void *arg)
{
	struct notify_job *job = arg;

	job->dj = NULL;
	job->ok = ok;
	job->permanent = permanent;
	if (!ok)
		job->reason = xstrdup(reason);
	job->step = STEP_FINISH;
	notify_finish(job);
}

/* The notification is loaded: build it and start sending. */
static void
notify_start(struct notify_job *job, const redisReply *h)
{
	const struct config *cfg = *job->n->cfg;
	const char *channel = notice_field(h, "channel");
	const char *kind = notice_field(h, "kind"), *to = notice_field(h, "to");
	const char *address;
	char *cause = NULL, *masked, *key = NULL, *payload = NULL;
	int permanent = 0;
	size_t len;

	job->channel = xstrdup(channel);
	if ((address = store_note_address(kind, to,
	    notice_field(h, "email"))) != NULL)
		job->address = xstrdup(address);
	masked = notify_masked(to);
	if (strcmp(channel, "mail") == 0)
		xasprintf(&job->what, "%s mail %s (comment %s) to %s", kind,
		    job->nid, notice_field(h, "comment"), masked);
	else
		xasprintf(&job->what, "%s %s %s (comment %s)", kind, channel,
		    job->nid, notice_field(h, "comment"));
	free(masked);

	if (strcmp(channel, "mail") == 0) {
		if (notice_mail(h, cfg, time(NULL), &payload, &len, &cause,
		    &permanent) == 0) {
			/* Only the configuration can stop it now: worth a retry. */
			permanent = 0;
			job->dj = deliver_mail(job->n->deliver, cfg, to, payload,
			    len, notify_sent, job, &cause);
		}
	} else if (strcmp(channel, "webhook") == 0) {
		if (cfg->notify_webhook[0] == '\0') {
			cause = xstrdup("no [notify] webhook is configured");
			permanent = 1;
		} else {
			if ((payload = notice_webhook(h, &len, &key)) == NULL) {
				cause = xstrdup("the stored comment makes no "
				    "JSON (not UTF-8, or a bad score)");
				permanent = 1;
			} else
				job->dj = deliver_webhook(job->n->deliver, cfg,
				    key, payload, len, notify_sent, job);
			free(key);
		}
	} else {
		xasprintf(&cause, "unknown channel \"%s\"", channel);
		permanent = 1;
		free(job->channel);
		job->channel = xstrdup("unknown");
	}
	free(payload);
	if (job->dj == NULL) {
		job->step = STEP_FINISH;
		job->reason = cause != NULL ? cause : xstrdup("cannot build it");
		job->permanent = permanent;
		notify_finish(job);
		return;
	}
	free(cause);
	log_debug("notify: sending %s, attempt %s", job->what,
	    notice_field(h, "attempts"));
	job->step = STEP_SEND;
}

/* ---- Redis steps ---- */

static void
notify_done_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;
	struct store_fail_result res;
	const char *cause;
	long long v;

	job->busy = 0;
	if (r == NULL) {
		notify_lost(n);
		return;		/* the job stays; the next poll tries again */
	}
	n->done++;
	if (job->ok) {
		if (store_integer_reply(r, &v, &cause) != 0) {
			/* Still pending in the group: it comes round again. */
			log_warnx("notify: acknowledging %s: %s", job->what ?
			    job->what : job->entry_id, cause);
		} else if (job->channel != NULL) {
			metrics_notify(n->metrics, job->channel, "sent");
			log_info("notify: sent %s", job->what);
		}
	} else {
		if (store_outbox_fail_reply(r, &res, &cause) != 0) {
			log_warnx("notify: recording the failure of %s: %s",
			    job->what, cause);
			res.outcome = FAIL_GONE;
		} else
			metrics_notify(n->metrics, job->channel, "failed");
		if (res.outcome == FAIL_RETRY) {
			metrics_notify(n->metrics, job->channel, "retried");
			log_warnx("notify: %s failed (attempt %lld of %u), "
			    "retry in %" PRIu64 " s: %s", job->what, res.attempts,
			    (*n->cfg)->notify_max_tries,
			    (res.due_ms > clock_wall_ms() ?
			    res.due_ms - clock_wall_ms() + 999 : 0) / 1000,
			    job->reason);
		} else if (res.outcome == FAIL_DEAD) {
			metrics_notify(n->metrics, job->channel, "dead");
			log_warnx("notify: %s failed %s, given up (heinzelctl "
			    "outbox retry %s): %s", job->what, job->permanent ?
			    "for good" : "the last time", job->nid, job->reason);
		}
	}
	notify_job_free(job);
	notify_wake(n);
}

/* Record the outcome: acknowledge, or move to retry or dead letters. */
static void
notify_finish(struct notify_job *job)
{
	struct notify *n = job->n;
	const struct config *cfg = *n->cfg;
	struct store_retry rt;
	struct store_cmd cmd;
	int s;

	store_cmd_init(&cmd);
	if (job->ok || job->nid == NULL) {
		job->ok = 1;
		s = STORE_SCRIPT_OUTBOX_DONE;
		store_cmd_outbox_done(n->store, &cmd, db_script_sha(n->db, s),
		    job->entry_id, job->nid, job->address, job->channel);
	} else {
		rt.max_tries = cfg->notify_max_tries;
		rt.base_ms = (uint64_t)cfg->notify_retry_base * 1000;
		rt.max_ms = (uint64_t)cfg->notify_retry_max * 1000;
		s = STORE_SCRIPT_OUTBOX_FAIL;
		store_cmd_outbox_fail(n->store, &cmd, db_script_sha(n->db, s),
		    job->entry_id, job->nid, job->channel, job->reason,
		    job->permanent, &rt, clock_wall_ms());
	}
	job->busy = 1;
	if (db_command(n->db, &cmd, s, notify_done_cb, job) != 0)
		job->busy = 0;	/* Redis is down: the tick tries again */
}

static void
notify_loaded_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;

	job->busy = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: loading notification %s: %s", job->nid,
			    r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
		notify_job_free(job);
		return;
	}
	if (r->elements == 0) {
		/* Dropped meanwhile: only the entry is left to acknowledge. */
		free(job->nid);
		job->nid = NULL;
		job->step = STEP_FINISH;
		notify_finish(job);
		return;
	}
	notify_start(job, r);
}

static void
notify_expanded_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;
	const char *cause;
	long long made;

	job->busy = 0;
	if (store_integer_reply(r, &made, &cause) != 0) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: expanding outbox entry %s: %s",
			    job->entry_id, cause);
	} else if (made < 0) {
		/* Another heinzeld made notifications meanwhile: again. */
		log_debug("notify: outbox entry %s: the counter moved, "
		    "reading again", job->entry_id);
		notify_expand(job);
		return;
	} else {
		n->done++;
		if (made > 0)
			log_debug("notify: outbox entry %s made %lld "
			    "notifications", job->entry_id, made);
	}
	notify_job_free(job);
	notify_wake(n);
}

/* A read for the expansion failed: the entry comes round again. */
static int
notify_expand_failed(struct notify_job *job, const redisReply *r, int type)
{
	if (r != NULL && (r->type == type || r->type == REDIS_REPLY_NIL))
		return 0;
	if (r == NULL)
		notify_lost(job->n);
	else
		log_warnx("notify: reading for outbox entry %s: %s",
		    job->entry_id, r->type == REDIS_REPLY_ERROR ? r->str :
		    "bad reply");
	notify_job_free(job);
	return -1;
}

/* The counter is read: expand with every key named. */
static void
notify_seq_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;
	const struct config *cfg = *n->cfg;
	struct store_outbox_entry e;
	struct store_notify nt;
	struct store_cmd cmd;
	int s = STORE_SCRIPT_OUTBOX_EXPAND;

	job->busy = 0;
	if (notify_expand_failed(job, r, REDIS_REPLY_STRING) != 0)
		return;
	memset(&e, 0, sizeof e);
	e.id = job->entry_id;
	e.event = job->event;
	e.comment = job->comment;
	notify_channels(cfg, &nt);
	store_cmd_init(&cmd);
	store_cmd_outbox_expand(n->store, &cmd, db_script_sha(n->db, s), &e, &nt,
	    job->address, r->type == REDIS_REPLY_STRING ? r->str : NULL,
	    clock_wall_ms());
	job->busy = 1;
	if (db_command(n->db, &cmd, s, notify_expanded_cb, job) != 0)
		notify_job_free(job);
}

/* The comment's address is read: then the counter. */
static void
notify_email_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct store_cmd cmd;

	job->busy = 0;
	if (notify_expand_failed(job, r, REDIS_REPLY_ARRAY) != 0)
		return;
	free(job->address);
	job->address = NULL;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_STRING)
		job->address = xstrdup(r->element[0]->str);
	store_cmd_init(&cmd);
	store_cmd_outbox_seq(job->n->store, &cmd);
	job->busy = 1;
	if (db_command(job->n->db, &cmd, -1, notify_seq_cb, job) != 0)
		notify_job_free(job);
}

/*
 * An event: read what names its keys, then expand it.  One event at a
 * time: expansions side by side would all read the same counter, and all
 * but one find it moved and read again.
 */
static void
notify_expand(struct notify_job *job)
{
	struct store_cmd cmd;

	if (job->n->expanding != NULL && job->n->expanding != job) {
		job->queued = 1;
		return;
	}
	job->n->expanding = job;
	store_cmd_init(&cmd);
	store_cmd_outbox_expand_read(job->n->store, &cmd, job->comment);
	job->busy = 1;
	if (db_command(job->n->db, &cmd, -1, notify_email_cb, job) != 0)
		notify_job_free(job);
}

static int
notify_in_flight(struct notify *n, const char *entry_id)
{
	struct notify_job *job;

	TAILQ_FOREACH(job, &n->jobs, entry)
		if (strcmp(job->entry_id, entry_id) == 0)
			return 1;
	return 0;
}

/*
 * Take one outbox entry in hand; 1: nothing to do but acknowledge it (an
 * event the configuration makes nothing of, or one deleted or not ours to
 * understand), left to the caller's XACK.
 */
static int
notify_take(struct notify *n, const struct store_outbox_entry *e)
{
	struct notify_job *job;
	struct store_notify nt;
	struct store_cmd cmd;
	int s;

	if (notify_in_flight(n, e->id))
		return 0;
	if (e->nid == NULL) {
		if (e->event == NULL || e->comment == NULL)
			return 1;
		notify_channels(*n->cfg, &nt);
		if (!store_notify_makes(&nt, e->event))
			return 1;
	}
	job = notify_job_new(n, e->id);
	store_cmd_init(&cmd);
	if (e->nid != NULL) {
		job->step = STEP_LOAD;
		job->nid = xstrdup(e->nid);
		store_cmd_notification(n->store, &cmd, e->nid);
		s = -1;
		job->busy = 1;
		if (db_command(n->db, &cmd, s, notify_loaded_cb, job) != 0)
			notify_job_free(job);
		return 0;
	}
	job->step = STEP_EXPAND;
	job->event = xstrdup(e->event);
	job->comment = xstrdup(e->comment);
	notify_expand(job);
	return 0;
}

static void
notify_acked_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;

	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		/* Still pending: read again with this consumer's own. */
		if (r != NULL)
			log_warnx("notify: acknowledging outbox entries: %s",
			    r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
		notify_lost(n);
		return;
	}
	n->done += (unsigned long long)r->integer;
}

/* Take a read's or claim's entries; acknowledge in one XACK all that ask no more. */
static void
notify_take_all(struct notify *n, const struct store_outbox_entry *e,
    size_t count)
{
	const char **ack;
	struct store_cmd cmd;
	size_t i, nack = 0;

	ack = xcalloc(count + 1, sizeof *ack);
	for (i = 0; i < count; i++)
		if (notify_take(n, &e[i]))
			ack[nack++] = e[i].id;
	if (nack > 0) {
		store_cmd_init(&cmd);
		store_cmd_outbox_ack(n->store, &cmd, ack, nack);
		/* Redis is down: read this consumer's own again later. */
		if (db_command(n->db, &cmd, -1, notify_acked_cb, n) != 0)
			notify_lost(n);
	}
	free(ack);
}

static void
notify_trimmed_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	const char *cause;
	long long v;

	n->trim_busy = 0;
	if (store_integer_reply(r, &v, &cause) != 0 && r != NULL)
		log_warnx("notify: trimming the outbox: %s", cause);
}

/* Drop the entries done from the stream, if some were done since. */
static void
notify_trim(struct notify *n)
{
	struct store_cmd cmd;
	int s = STORE_SCRIPT_OUTBOX_TRIM;

	if (n->done == 0 || n->trim_busy)
		return;
	n->done = 0;
	store_cmd_init(&cmd);
	store_cmd_outbox_trim(n->store, &cmd, db_script_sha(n->db, s));
	n->trim_busy = 1;
	if (db_command(n->db, &cmd, s, notify_trimmed_cb, n) != 0)
		n->trim_busy = 0;
}

/* A read or claim failed for want of the group (a FLUSHALL, a new Redis). */
static void
notify_read_error(struct notify *n, const redisReply *r, const char *what,
    const char *cause)
{
	if (r == NULL) {
		notify_lost(n);
		return;
	}
	if (strncmp(cause, "NOGROUP", 7) == 0) {
		n->group_ready = 0;
		notify_lost(n);
		return;
	}
	log_warnx("notify: %s: %s", what, cause);
}

static void
notify_read_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	struct store_outbox_entry *e;
	const char *next, *cause;
	size_t count;

	n->reading = 0;
	if (store_outbox_entries(r, &e, &count, &next, &cause) != 0) {
		notify_read_error(n, r, "reading the outbox", cause);
		return;
	}
	if (n->history[0] != '\0') {
		if (count == 0)
			n->history[0] = '\0';	/* on to new entries */
		else
			snprintf(n->history, sizeof n->history, "%s",
			    e[count - 1].id);
	}
	notify_take_all(n, e, count);
	free(e);
	if (count > 0 || n->history[0] != '\0')
		notify_wake(n);
	else
		notify_trim(n);		/* idle: a good time */
}

static void
notify_claim_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	struct store_outbox_entry *e;
	const char *next, *cause;
	size_t count;

	n->claim_busy = 0;
	if (store_outbox_entries(r, &e, &count, &next, &cause) != 0) {
		notify_read_error(n, r, "claiming idle outbox entries", cause);
		return;
	}
	if (count > 0)
		log_info("notify: took over %zu outbox entries idle too long",
		    count);
	notify_take_all(n, e, count);
	free(e);
	if (next != NULL && strcmp(next, "0-0") != 0)
		n->last_claim_ms = 0;	/* more to look at */
}

static void
notify_due_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	const char *cause;
	long long moved;
	uint64_t next;

	n->due_busy = 0;
	if (store_outbox_due_reply(r, &moved, &next, &cause) != 0) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: retry schedule: %s", cause);
		return;
	}
	if (moved > 0) {
		log_debug("notify: %lld notifications due again", moved);
		notify_wake(n);
	}
}

static void
notify_group_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;

	n->group_busy = 0;
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
		log_warnx("notify: creating the outbox group: %s", r->str);
		return;
	}
	n->group_ready = 1;
	notify_wake(n);
}

/*
 * One round: whatever is possible now.  The poll (not each wake) also
 * retries the outcomes Redis missed, moves due retries back into the
 * outbox and looks for entries of lost consumers.
 */
static void
notify_work(struct notify *n, int poll)
{
	const struct config *cfg = *n->cfg;
	struct notify_job *job, *next;
	struct store_cmd cmd;
	uint64_t now = clock_wall_ms(), idle;
	unsigned int free_slots;

	if (!db_up(n->db)) {
		n->was_up = 0;
		return;
	}
	if (!n->was_up) {
		n->was_up = 1;
		n->group_ready = 0;
		notify_lost(n);
	}
	if (!n->group_ready) {
		if (!n->group_busy) {
			n->group_busy = 1;
			store_cmd_init(&cmd);
			store_cmd_outbox_group(n->store, &cmd);
			if (db_command(n->db, &cmd, -1, notify_group_cb, n) != 0)
				n->group_busy = 0;
		}
		return;
	}
	for (job = TAILQ_FIRST(&n->jobs); poll && job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->step == STEP_FINISH && !job->busy)
			notify_finish(job);
	}
	if (poll && !n->due_busy) {
		n->due_busy = 1;
		store_cmd_init(&cmd);
		store_cmd_outbox_due(n->store, &cmd,
		    db_script_sha(n->db, STORE_SCRIPT_OUTBOX_DUE), now,
		    NOTIFY_DUE_BATCH);
		if (db_command(n->db, &cmd, STORE_SCRIPT_OUTBOX_DUE,
		    notify_due_cb, n) != 0)
			n->due_busy = 0;
	}
	if (poll)
		notify_trim(n);
	free_slots = n->njobs < NOTIFY_PARALLEL ? NOTIFY_PARALLEL - n->njobs : 0;
	/*
	 * An entry idle longer than any delivery takes: its consumer (another
	 * heinzeld, or this one under an older name) is gone.
	 */
	if (cfg->notify_takeover != 0)
		idle = 1000ULL * cfg->notify_takeover;
	else
		idle = 2000ULL * (cfg->smtp_timeout >
		    cfg->notify_webhook_timeout ? cfg->smtp_timeout :
		    cfg->notify_webhook_timeout) + 60000;
	if (poll && free_slots > 0 && !n->claim_busy &&
	    now - n->last_claim_ms >= (idle / 2 < NOTIFY_CLAIM_EVERY_MS ?
	    idle / 2 : NOTIFY_CLAIM_EVERY_MS)) {
		n->last_claim_ms = now;
		n->claim_busy = 1;
		store_cmd_init(&cmd);
		store_cmd_outbox_claim(n->store, &cmd, n->consumer, idle, "0-0",
		    free_slots);
		if (db_command(n->db, &cmd, -1, notify_claim_cb, n) != 0)
			n->claim_busy = 0;
	}
	if (free_slots > 0 && !n->reading) {
		n->reading = 1;
		n->last_read_ms = clock_mono_ms();
		store_cmd_init(&cmd);
		store_cmd_outbox_read(n->store, &cmd, n->consumer, free_slots,
		    n->history[0] != '\0' ? n->history : ">");
		if (db_command(n->db, &cmd, -1, notify_read_cb, n) != 0)
			n->reading = 0;
	}
}

static void
notify_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify_work(arg, 0);
}

static void
notify_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	struct timeval tv = { NOTIFY_POLL_MS / 1000, (NOTIFY_POLL_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	notify_work(n, 1);
	evtimer_add(n->tick, &tv);
}

struct notify *
notify_new(struct event_base *base, struct db *db, const struct store *st,
    const struct config *const *cfg, struct metrics *m)
{
	struct notify *n = xcalloc(1, sizeof *n);
	struct timeval tv = { 0, 0 };
	char host[256];

	n->base = base;
	n->db = db;
	n->store = st;
	n->cfg = cfg;
	n->metrics = m;
	TAILQ_INIT(&n->jobs);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	xasprintf(&n->consumer, "%s:%s", host, (*cfg)->socket);
	n->deliver = deliver_new(base);
	n->tick = evtimer_new(base, notify_tick_cb, n);
	n->kick = evtimer_new(base, notify_kick_cb, n);
	if (n->tick == NULL || n->kick == NULL)
		fatalx("notify: cannot create timers");
	notify_lost(n);
	evtimer_add(n->tick, &tv);
	metrics_on_stored(m, notify_wake_cb, n);
	log_debug("notify: consumer %s", n->consumer);
	return n;
}

void
notify_free(struct notify *n)
{
	metrics_on_stored(n->metrics, NULL, NULL);
	n->expanding = NULL;	/* start no other on the way out */
	while (!TAILQ_EMPTY(&n->jobs))
		notify_job_free(TAILQ_FIRST(&n->jobs));
	deliver_free(n->deliver);
	event_free(n->tick);
	event_free(n->kick);
	free(n->consumer);
	free(n);
}
