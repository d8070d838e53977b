/*
 * Housekeeping.  Every JANITOR_INTERVAL the janitor purges spam older than
 * spam_keep_days, then prunes the classifier's rare old tokens, both in
 * batches so that no single script blocks Redis for long; a full batch is
 * followed at once by the next.  heinzelctl purge does the first by hand.
 * Several heinzeld on one Redis would each scan the spam queue and every
 * token in that time; the first to set {P}:lock:janitor (SET NX PX, for the
 * interval) does it and the others wait for the next period.  A daemon
 * that dies holding it is taken over when the lock expires.
 * On a timer of its own, a tenth of the shorter [privacy] keep time (at
 * least a second, at most a minute), it erases the personal data whose
 * time is up (privacy.h); every step is idempotent, so several heinzeld
 * on one Redis may all run it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bayes_store.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "janitor.h"
#include "log.h"
#include "privacy.h"
#include "store.h"
#include "xmalloc.h"

#define JANITOR_INTERVAL 600	/* seconds */
#define JANITOR_FIRST 2	/* seconds after start, or after Redis was down */
#define JANITOR_BATCH 500
#define JANITOR_NEED_TRIES 10	/* asks for one batch that keeps changing */
#define JANITOR_PRIVACY_MAX 60	/* seconds between privacy runs, at most */
/* Comments per queue and privacy run: a run of a backlog takes ~7 ms. */
#define JANITOR_PRIVACY_BATCH 100

struct janitor {
	struct db *db;
	const struct store *store;
	const struct config *const *cfg;
	struct event *timer;
	long long purged;	/* this run */
	uint64_t purge_before;	/* this batch's before_ms, kept across its asks */
	int purge_tries;	/* this batch's asks (store_need_reply) */
	uint64_t expire_ip_before, expire_email_before;
	/*
	 * When this heinzeld started: every comment it stores is entered in
	 * the e-mail index as it is stored, so the walk of the index (on a
	 * Redis that never had one) ends here, not at its first run, which
	 * would walk again the comments of the seconds in between.
	 */
	uint64_t started_ms;
	int expire_tries;	/* the privacy batch's asks */
	unsigned long pruned;
	struct event *privacy_timer;
	struct privacy_expired expired;	/* this run */
	char owner[300];		/* the lock's value: "host:pid" */
};

static void janitor_run(struct janitor *j);
static void janitor_purge(struct janitor *j, const redisReply *need);
static void janitor_expire(struct janitor *j, const redisReply *need);
static void janitor_prune(struct janitor *j, const char *cursor);

static void
janitor_schedule(struct janitor *j, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(j->timer, &tv);
}

/*
 * Whether reply is a batch's {'need', KEY...} (store_need_reply).  If so
 * the batch is asked again with those keys in KEYS, again(j, reply); once
 * it has asked JANITOR_NEED_TRIES times (*tries counts them), what it
 * reads keeps changing: "janitor: WHAT kept changing" is logged and
 * later(j, seconds) takes it up again.
 */
static int
janitor_need(struct janitor *j, const redisReply *reply, int *tries,
    const char *what, void (*again)(struct janitor *, const redisReply *),
    void (*later)(struct janitor *, int), int seconds)
{
	if (!store_need_reply(j->store, reply))
		return 0;
	if (++*tries >= JANITOR_NEED_TRIES) {
		log_warnx("janitor: %s kept changing", what);
		later(j, seconds);
	} else
		again(j, reply);
	return 1;
}

static void
janitor_purged_cb(redisReply *reply, void *arg)
{
	struct janitor *j = arg;
	const char *cause;
	long long n;

	if (janitor_need(j, reply, &j->purge_tries, "purge: the spam comments",
	    janitor_purge, janitor_schedule, JANITOR_INTERVAL))
		return;
	if (store_purge_reply(reply, &n, &cause) != 0) {
		if (reply != NULL)
			log_warnx("janitor: purge: %s", cause);
		janitor_schedule(j, JANITOR_INTERVAL);
		return;
	}
	j->purged += n;
	if (n >= JANITOR_BATCH) {
		janitor_run(j);
		return;
	}
	if (j->purged > 0)
		log_info("janitor: purged %lld spam comments older than %u days",
		    j->purged, (*j->cfg)->spam_keep_days);
	j->pruned = 0;
	janitor_prune(j, "0");
}

static void
janitor_pruned_cb(redisReply *reply, void *arg)
{
	struct janitor *j = arg;
	struct bayes_prune_result res;
	const char *cause;

	if (bayes_store_prune_reply(reply, &res, &cause) != 0) {
		if (reply != NULL)
			log_warnx("janitor: bayes prune: %s", cause);
		janitor_schedule(j, JANITOR_INTERVAL);
		return;
	}
	j->pruned += res.removed;
	if (strcmp(res.cursor, "0") != 0) {
		janitor_prune(j, res.cursor);
		return;
	}
	if (j->pruned > 0)
		log_info("janitor: pruned %lu rare classifier tokens, %lu left",
		    j->pruned, res.ntokens);
	janitor_schedule(j, JANITOR_INTERVAL);
}

/* One HSCAN step of pruning the classifier's tokens from cursor. */
static void
janitor_prune(struct janitor *j, const char *cursor)
{
	struct store_cmd cmd;

	store_cmd_init(&cmd);
	bayes_store_cmd_prune(j->store, &cmd, db_script_sha(j->db,
	    DB_BAYES_SCRIPT(BAYES_SCRIPT_PRUNE)), cursor, BAYES_PRUNE_COUNT,
	    clock_wall_ms(), BAYES_PRUNE_DAYS, BAYES_MAX_TOKENS);
	if (db_command(j->db, &cmd, DB_BAYES_SCRIPT(BAYES_SCRIPT_PRUNE),
	    janitor_pruned_cb, j) != 0)
		janitor_schedule(j, JANITOR_FIRST);
}

static void
janitor_run(struct janitor *j)
{
	const struct config *cfg = *j->cfg;
	uint64_t now_ms, keep_ms;

	if (cfg->spam_keep_days == 0 || !db_up(j->db)) {
		janitor_schedule(j, cfg->spam_keep_days == 0 ?
		    JANITOR_INTERVAL : JANITOR_FIRST);
		return;
	}
	now_ms = clock_wall_ms();
	keep_ms = (uint64_t)cfg->spam_keep_days * 86400000ULL;
	j->purge_before = now_ms > keep_ms ? now_ms - keep_ms : 0;
	j->purge_tries = 0;
	janitor_purge(j, NULL);
}

/* One batch: first without the comments' keys (need NULL), then with. */
static void
janitor_purge(struct janitor *j, const redisReply *need)
{
	struct store_cmd cmd;

	store_cmd_init(&cmd);
	store_cmd_purge(j->store, &cmd, db_script_sha(j->db, STORE_SCRIPT_PURGE),
	    j->purge_before, JANITOR_BATCH, need);
	if (db_command(j->db, &cmd, STORE_SCRIPT_PURGE, janitor_purged_cb, j) != 0)
		janitor_schedule(j, JANITOR_FIRST);
}

/* A tenth of the shorter keep time, 1 to JANITOR_PRIVACY_MAX seconds. */
static int
janitor_privacy_interval(const struct config *cfg)
{
	unsigned int keep = cfg->privacy_ip_keep;

	if (cfg->privacy_refused_email_keep < keep)
		keep = cfg->privacy_refused_email_keep;
	keep /= 10;
	return keep < 1 ? 1 : keep > JANITOR_PRIVACY_MAX ?
	    JANITOR_PRIVACY_MAX : (int)keep;
}

static void
janitor_privacy_schedule(struct janitor *j, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(j->privacy_timer, &tv);
}

static void janitor_privacy_run(struct janitor *j);

static void
janitor_expired_cb(redisReply *reply, void *arg)
{
	struct janitor *j = arg;
	const struct config *cfg = *j->cfg;
	struct privacy_expired e;
	const char *cause;

	if (janitor_need(j, reply, &j->expire_tries, "privacy: the comments",
	    janitor_expire, janitor_privacy_schedule, JANITOR_FIRST))
		return;
	if (privacy_expire_reply(reply, &e, &cause) != 0) {
		if (reply != NULL)
			log_warnx("janitor: privacy: %s", cause);
		janitor_privacy_schedule(j, JANITOR_FIRST);
		return;
	}
	j->expired.comments += e.comments;
	j->expired.notes += e.notes;
	j->expired.emails += e.emails;
	if (e.more) {
		janitor_privacy_run(j);
		return;
	}
	if (j->expired.comments + j->expired.notes > 0)
		log_info("janitor: erased the IP address and user agent of %lld "
		    "comments and %lld notifications (ip_keep %us)",
		    j->expired.comments, j->expired.notes, cfg->privacy_ip_keep);
	if (j->expired.emails > 0)
		log_info("janitor: erased the e-mail address of %lld refused "
		    "comments (refused_email_keep %us)", j->expired.emails,
		    cfg->privacy_refused_email_keep);
	janitor_privacy_schedule(j, janitor_privacy_interval(cfg));
}

static void
janitor_privacy_run(struct janitor *j)
{
	const struct config *cfg = *j->cfg;
	uint64_t now_ms, ip_ms, email_ms;

	if (!db_up(j->db)) {
		janitor_privacy_schedule(j, JANITOR_FIRST);
		return;
	}
	now_ms = clock_wall_ms();
	ip_ms = (uint64_t)cfg->privacy_ip_keep * 1000;
	email_ms = (uint64_t)cfg->privacy_refused_email_keep * 1000;
	j->expire_ip_before = now_ms > ip_ms ? now_ms - ip_ms : 0;
	j->expire_email_before = now_ms > email_ms ? now_ms - email_ms : 0;
	j->expire_tries = 0;
	janitor_expire(j, NULL);
}

/* One batch: first without the keys it wants (need NULL), then with. */
static void
janitor_expire(struct janitor *j, const redisReply *need)
{
	struct store_cmd cmd;

	store_cmd_init(&cmd);
	privacy_cmd_expire(j->store, &cmd, db_script_sha(j->db,
	    DB_PRIVACY_SCRIPT(PRIVACY_SCRIPT_EXPIRE)), j->expire_ip_before,
	    j->expire_email_before, JANITOR_PRIVACY_BATCH, j->started_ms, need);
	if (db_command(j->db, &cmd, DB_PRIVACY_SCRIPT(PRIVACY_SCRIPT_EXPIRE),
	    janitor_expired_cb, j) != 0)
		janitor_privacy_schedule(j, JANITOR_FIRST);
}

static void
janitor_privacy_cb(evutil_socket_t fd, short what, void *arg)
{
	struct janitor *j = arg;

	(void)fd;
	(void)what;
	memset(&j->expired, 0, sizeof j->expired);
	janitor_privacy_run(j);
}

static void
janitor_locked_cb(redisReply *reply, void *arg)
{
	struct janitor *j = arg;

	if (reply == NULL) {
		janitor_schedule(j, JANITOR_FIRST);
		return;
	}
	if (reply->type == REDIS_REPLY_NIL) {
		log_debug("janitor: another heinzeld purges and prunes in this "
		    "period");
		janitor_schedule(j, JANITOR_INTERVAL);
		return;
	}
	if (reply->type != REDIS_REPLY_STATUS) {
		log_warnx("janitor: lock: %s", reply->type ==
		    REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		janitor_schedule(j, JANITOR_INTERVAL);
		return;
	}
	log_debug("janitor: purge and prune");
	j->purged = 0;
	janitor_run(j);
}

/* Once per JANITOR_INTERVAL across all daemons: whoever sets the lock. */
static void
janitor_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct janitor *j = arg;
	struct store_cmd cmd;

	(void)fd;
	(void)what;
	if ((*j->cfg)->spam_keep_days == 0 || !db_up(j->db)) {
		janitor_run(j);		/* reschedules */
		return;
	}
	store_cmd_init(&cmd);
	store_cmd_add(&cmd, "SET", 3);
	store_cmd_addf(&cmd, "%s:lock:janitor", j->store->tag);
	store_cmd_add(&cmd, j->owner, strlen(j->owner));
	store_cmd_add(&cmd, "NX", 2);
	store_cmd_add(&cmd, "PX", 2);
	store_cmd_addf(&cmd, "%d", JANITOR_INTERVAL * 1000);
	if (db_command(j->db, &cmd, -1, janitor_locked_cb, j) != 0)
		janitor_schedule(j, JANITOR_FIRST);
}

struct janitor *
janitor_new(struct event_base *base, struct db *db, const struct store *st,
    const struct config *const *cfg)
{
	struct janitor *j = xcalloc(1, sizeof *j);
	char host[256];

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(j->owner, sizeof j->owner, "%s:%ld", host, (long)getpid());
	j->db = db;
	j->store = st;
	j->cfg = cfg;
	j->started_ms = clock_wall_ms();
	if ((j->timer = evtimer_new(base, janitor_timer_cb, j)) == NULL ||
	    (j->privacy_timer = evtimer_new(base, janitor_privacy_cb, j)) == NULL)
		fatalx("cannot create the janitor's timers");
	janitor_schedule(j, JANITOR_FIRST);
	janitor_privacy_schedule(j, JANITOR_FIRST);
	return j;
}

/* A purge in flight still calls back: db_free (before) fires it with NULL. */
void
janitor_free(struct janitor *j)
{
	event_free(j->timer);
	event_free(j->privacy_timer);
	free(j);
}
