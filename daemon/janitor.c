/*
 * Housekeeping.  Every JANITOR_INTERVAL the janitor purges spam older than
 * spam_keep_days, then prunes the classifier's rare old tokens, both in
 * batches so that no single script blocks Redis for long; a full batch is
 * followed at once by the next.  heinzelctl purge does the first by hand.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bayes_store.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "janitor.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define JANITOR_INTERVAL 600	/* seconds */
#define JANITOR_FIRST 2	/* seconds after start, or after Redis was down */
#define JANITOR_BATCH 500

struct janitor {
	struct db *db;
	const struct store *store;
	const struct config *const *cfg;
	struct event *timer;
	long long purged;	/* this run */
	unsigned long pruned;
};

static void janitor_run(struct janitor *j);
static void janitor_prune(struct janitor *j, const char *cursor);

static void
janitor_schedule(struct janitor *j, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(j->timer, &tv);
}

static void
janitor_purged_cb(redisReply *reply, void *arg)
{
	struct janitor *j = arg;
	const char *cause;
	long long n;

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
	struct store_cmd cmd;
	uint64_t now_ms, keep_ms;

	if (cfg->spam_keep_days == 0 || !db_up(j->db)) {
		janitor_schedule(j, cfg->spam_keep_days == 0 ?
		    JANITOR_INTERVAL : JANITOR_FIRST);
		return;
	}
	now_ms = clock_wall_ms();
	keep_ms = (uint64_t)cfg->spam_keep_days * 86400000ULL;
	store_cmd_init(&cmd);
	store_cmd_purge(j->store, &cmd, db_script_sha(j->db, STORE_SCRIPT_PURGE),
	    now_ms > keep_ms ? now_ms - keep_ms : 0, JANITOR_BATCH);
	if (db_command(j->db, &cmd, STORE_SCRIPT_PURGE, janitor_purged_cb, j) != 0) {
			janitor_schedule(j, JANITOR_FIRST);
	}
}

static void
janitor_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct janitor *j = arg;

	(void)fd;
	(void)what;
	j->purged = 0;
	janitor_run(j);
}

struct janitor *
janitor_new(struct event_base *base, struct db *db, const struct store *st,
    const struct config *const *cfg)
{
	struct janitor *j = xcalloc(1, sizeof *j);

	j->db = db;
	j->store = st;
	j->cfg = cfg;
	if ((j->timer = evtimer_new(base, janitor_timer_cb, j)) == NULL)
		fatalx("cannot create the janitor's timer");
	janitor_schedule(j, JANITOR_FIRST);
	return j;
}

/* A purge in flight still calls back: db_free (before) fires it with NULL. */
void
janitor_free(struct janitor *j)
{
	event_free(j->timer);
	free(j);
}
