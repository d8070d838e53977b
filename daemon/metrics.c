/*
 * Metrics.  Counters live in the process (one loop, no locks) and are
 * rendered on scrape; queue depths are read from Redis then, so they are
 * right whoever changed the queues (heinzelctl, another heinzeld).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "rules.h"
#include "score.h"
#include "store.h"
#include "xmalloc.h"

static const double metrics_buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
};
#define METRICS_NBUCKETS (sizeof metrics_buckets / sizeof metrics_buckets[0])

static const char *const metrics_routes[] = {
	"comments_post", "comments_list", "captcha", "learn", "health", "metrics",
	"other"
};
#define METRICS_NROUTES (sizeof metrics_routes / sizeof metrics_routes[0])

static const char *const metrics_outcomes[] = {
	"pending", "approved", "spam", "rejected", "captcha", "invalid",
	"duplicate", "rate_limited", "unavailable"
};
#define METRICS_NOUTCOMES (sizeof metrics_outcomes / sizeof metrics_outcomes[0])

static const char *const metrics_channels[] = { "mail", "webhook" };
#define METRICS_NCHANNELS (sizeof metrics_channels / sizeof metrics_channels[0])
static const char *const metrics_notify_results[] = {
	"sent", "failed", "retried", "dead"
};
#define METRICS_NRESULTS \
	(sizeof metrics_notify_results / sizeof metrics_notify_results[0])

struct metrics_status {
	int code;
	unsigned long long count;
};

struct metrics_named {
	char *name;
	unsigned long long count;
};

struct metrics {
	unsigned long long counter[METRIC__COUNT];
	unsigned long long outcome[METRICS_NOUTCOMES];
	struct {
		unsigned long long bucket[METRICS_NBUCKETS];
		unsigned long long count;
		double sum;
		struct metrics_status status[16];
		size_t nstatus;
	} route[METRICS_NROUTES];
	struct metrics_named *hits;	/* sorted by name */
	size_t nhits, caphits;
	unsigned long long notify[METRICS_NCHANNELS][METRICS_NRESULTS];
	void (*on_stored)(void *);
	void *on_stored_arg;
	int last_reload_ok;
	time_t last_reload;
	time_t started;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->last_reload_ok = 1;
	m->started = m->last_reload = time(NULL);
	return m;
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	for (i = 0; i < m->nhits; i++)
		free(m->hits[i].name);
	free(m->hits);
	free(m);
}

void
metrics_count(struct metrics *m, enum metric_counter c)
{
	m->counter[c]++;
}

static size_t
metrics_index(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1;
}

void
metrics_request(struct metrics *m, const char *route, int status, double seconds)
{
	size_t r = metrics_index(metrics_routes, METRICS_NROUTES, route);
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (seconds <= metrics_buckets[i])
			m->route[r].bucket[i]++;
	m->route[r].count++;
	m->route[r].sum += seconds;
	for (i = 0; i < m->route[r].nstatus; i++)
		if (m->route[r].status[i].code == status)
			break;
	if (i == m->route[r].nstatus) {
		if (i == sizeof m->route[r].status / sizeof m->route[r].status[0])
			return;
		m->route[r].status[i].code = status;
		m->route[r].nstatus++;
	}
	m->route[r].status[i].count++;
}

void
metrics_outcome(struct metrics *m, const char *outcome)
{
	size_t i;

	for (i = 0; i < METRICS_NOUTCOMES; i++)
		if (strcmp(metrics_outcomes[i], outcome) == 0) {
			m->outcome[i]++;
			/* A stored comment may have notifications to send. */
			if (m->on_stored != NULL && (strcmp(outcome, "pending") == 0 ||
			    strcmp(outcome, "approved") == 0))
				m->on_stored(m->on_stored_arg);
			return;
		}
	log_debug("metrics: unknown outcome %s", outcome);
}

static int
metrics_named_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct metrics_named *)elem)->name);
}

void
metrics_rule_hits(struct metrics *m, const struct score *s)
{
	struct metrics_named *found;
	size_t i, lo, hi, mid;

	for (i = 0; i < s->nhits; i++) {
		found = m->nhits == 0 ? NULL : bsearch(s->hits[i].name,
		    m->hits, m->nhits, sizeof *m->hits, metrics_named_cmp);
		if (found != NULL) {
			found->count++;
			continue;
		}
		if (m->nhits == m->caphits) {
			m->caphits = m->caphits ? m->caphits * 2 : 64;
			m->hits = xreallocarray(m->hits, m->caphits, sizeof *m->hits);
		}
		for (lo = 0, hi = m->nhits; lo < hi;) {
			mid = (lo + hi) / 2;
			if (strcmp(m->hits[mid].name, s->hits[i].name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&m->hits[lo + 1], &m->hits[lo],
		    (m->nhits - lo) * sizeof *m->hits);
		m->hits[lo].name = xstrdup(s->hits[i].name);
		m->hits[lo].count = 1;
		m->nhits++;
	}
}

void
metrics_reloaded(struct metrics *m, int ok, size_t nrules)
{
	(void)nrules;
	m->counter[ok ? METRIC_RELOADS : METRIC_RELOAD_FAILURES]++;
	m->last_reload_ok = ok;
	m->last_reload = time(NULL);
}

void
metrics_notify(struct metrics *m, const char *channel, const char *result)
{
	size_t c, r;

	for (c = 0; c < METRICS_NCHANNELS; c++)
		if (strcmp(metrics_channels[c], channel) == 0)
			break;
	for (r = 0; r < METRICS_NRESULTS; r++)
		if (strcmp(metrics_notify_results[r], result) == 0)
			break;
	if (c < METRICS_NCHANNELS && r < METRICS_NRESULTS)
		m->notify[c][r]++;
}

void
metrics_on_stored(struct metrics *m, void (*fn)(void *), void *arg)
{
	m->on_stored = fn;
	m->on_stored_arg = arg;
}

static void
metrics_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A rule name fit for a label value as it is: letters, digits, _ . - */
static bool
metrics_label_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return false;
	return true;
}

/*
 * Per-rule counts of moderators' decisions from {P}:rulestats: fields
 * "published NAME" and "refused NAME" (store.c).  Shared by every
 * heinzeld on the Redis, so each reports the same totals.
 */
static void
metrics_rule_decided(const redisReply *rs, struct evbuffer *out)
{
	const char *field, *name;
	size_t i;

	metrics_head(out, "heinzel_rule_decided_comments", "gauge",
	    "Hits of each rule on comments a moderator published or refused "
	    "(rejected, spam); a changed decision moves its count.");
	for (i = 0; rs != NULL && i + 1 < rs->elements; i += 2) {
		if (rs->element[i]->type != REDIS_REPLY_STRING ||
		    rs->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		field = rs->element[i]->str;
		if (strncmp(field, "published ", 10) == 0)
			name = field + 10;
		else if (strncmp(field, "refused ", 8) == 0)
			name = field + 8;
		else
			continue;
		if (!metrics_label_ok(name))
			continue;
		evbuffer_add_printf(out, "heinzel_rule_decided_comments{rule=\"%s\","
		    "decision=\"%s\"} %s\n", name, field[0] == 'p' ?
		    "published" : "refused", rs->element[i + 1]->str);
	}
}

void
metrics_render(struct metrics *m, const struct db *db,
    const struct ruleset *rs, const redisReply *depths, unsigned int conns,
    struct evbuffer *out)
{
	const struct db_stats *ds = db_stats(db);
	struct store_depths d;
	struct timespec now;
	const char *cause;
	double age;
	size_t i, j;
	int have = depths != NULL && store_depths_reply(depths, &d, &cause) == 0;

	if (have) {
		metrics_head(out, "heinzel_queue_depth", "gauge",
		    "Comments in each queue.");
		for (i = 0; i < STORE__NSTATUS; i++)
			evbuffer_add_printf(out, "heinzel_queue_depth{queue=\"%s\"} %lld\n",
			    store_status_name(i), d.count[i]);
		metrics_head(out, "heinzel_oldest_pending_age_seconds", "gauge",
		    "Age of the oldest comment waiting for moderation (0 if none).");
		clock_gettime(CLOCK_REALTIME, &now);
		age = d.oldest_pending_ms ? (double)now.tv_sec +
		    (double)now.tv_nsec / 1e9 - (double)d.oldest_pending_ms / 1000 : 0;
		evbuffer_add_printf(out, "heinzel_oldest_pending_age_seconds %.3f\n",
		    age > 0 ? age : 0.0);
		metrics_head(out, "heinzel_outbox_depth", "gauge",
		    "Notifications not yet delivered: in the outbox stream "
		    "(ready) or waiting for another try (retry).");
		evbuffer_add_printf(out, "heinzel_outbox_depth{state=\"ready\"} %lld\n"
		    "heinzel_outbox_depth{state=\"retry\"} %lld\n", d.outbox,
		    d.outbox_retry);
		metrics_head(out, "heinzel_outbox_dead", "gauge",
		    "Notifications given up on (heinzelctl outbox).");
		evbuffer_add_printf(out, "heinzel_outbox_dead %lld\n",
		    d.outbox_dead);
		metrics_rule_decided(d.rulestats, out);
	}
	metrics_head(out, "heinzel_notifications_total", "counter",
	    "Notification attempts by channel and result: sent, failed (each "
	    "failed attempt), retried (scheduled again), dead (given up).");
	for (i = 0; i < METRICS_NCHANNELS; i++)
		for (j = 0; j < METRICS_NRESULTS; j++)
			evbuffer_add_printf(out, "heinzel_notifications_total"
			    "{channel=\"%s\",result=\"%s\"} %llu\n",
			    metrics_channels[i], metrics_notify_results[j],
			    m->notify[i][j]);
	metrics_head(out, "heinzel_redis_up", "gauge",
	    "1 when heinzeld is connected to Redis.");
	evbuffer_add_printf(out, "heinzel_redis_up %d\n", db_up(db) ? 1 : 0);
	metrics_head(out, "heinzel_redis_reconnects_total", "counter",
	    "Connection attempts to Redis after the first.");
	evbuffer_add_printf(out, "heinzel_redis_reconnects_total %llu\n", ds->reconnects);
	metrics_head(out, "heinzel_redis_master_switches_total", "counter",
	    "Times the Redis Sentinels named another master.");
	evbuffer_add_printf(out, "heinzel_redis_master_switches_total %llu\n",
	    ds->switches);
	metrics_head(out, "heinzel_redis_timeouts_total", "counter",
	    "Redis commands that timed out.");
	evbuffer_add_printf(out, "heinzel_redis_timeouts_total %llu\n", ds->timeouts);
	metrics_head(out, "heinzel_redis_inflight", "gauge",
	    "Redis commands waiting for a reply.");
	evbuffer_add_printf(out, "heinzel_redis_inflight %u\n", ds->inflight);

	metrics_head(out, "heinzel_submissions_total", "counter",
	    "Comment submissions by outcome.");
	for (i = 0; i < METRICS_NOUTCOMES; i++)
		evbuffer_add_printf(out, "heinzel_submissions_total{outcome=\"%s\"} %llu\n",
		    metrics_outcomes[i], m->outcome[i]);
	metrics_head(out, "heinzel_captcha_issued_total", "counter",
	    "Math questions handed out.");
	evbuffer_add_printf(out, "heinzel_captcha_issued_total %llu\n",
	    m->counter[METRIC_CAPTCHA_ISSUED]);
	metrics_head(out, "heinzel_captcha_failures_total", "counter",
	    "Submissions refused for a wrong, unknown, reused or too fast answer.");
	evbuffer_add_printf(out, "heinzel_captcha_failures_total %llu\n",
	    m->counter[METRIC_CAPTCHA_FAILED]);

	metrics_head(out, "heinzel_rule_hits_total", "counter",
	    "Stored comments each rule hit.");
	for (i = 0; i < m->nhits; i++)
		evbuffer_add_printf(out, "heinzel_rule_hits_total{rule=\"%s\"} %llu\n",
		    m->hits[i].name, m->hits[i].count);
	metrics_head(out, "heinzel_rule_limit_hits_total", "counter",
	    "Submissions where a rule hit a PCRE2 match limit (counted as no match).");
	evbuffer_add_printf(out, "heinzel_rule_limit_hits_total %llu\n",
	    m->counter[METRIC_RULE_LIMIT]);
	metrics_head(out, "heinzel_rules_loaded", "gauge", "Rules in force.");
	evbuffer_add_printf(out, "heinzel_rules_loaded %zu\n", ruleset_count(rs));
	metrics_head(out, "heinzel_rules_reloads_total", "counter",
	    "Reloads by result.");
	evbuffer_add_printf(out, "heinzel_rules_reloads_total{result=\"ok\"} %llu\n",
	    m->counter[METRIC_RELOADS]);
	evbuffer_add_printf(out, "heinzel_rules_reloads_total{result=\"failed\"} %llu\n",
	    m->counter[METRIC_RELOAD_FAILURES]);
	metrics_head(out, "heinzel_rules_last_reload_success", "gauge",
	    "1 when the last reload (or the start) succeeded.");
	evbuffer_add_printf(out, "heinzel_rules_last_reload_success %d\n",
	    m->last_reload_ok);
	metrics_head(out, "heinzel_rules_last_reload_timestamp_seconds", "gauge",
	    "When the rules were last (re)loaded or tried.");
	evbuffer_add_printf(out, "heinzel_rules_last_reload_timestamp_seconds %lld\n",
	    (long long)m->last_reload);

	metrics_head(out, "heinzel_http_requests_total", "counter",
	    "HTTP requests by route and status.");
	for (i = 0; i < METRICS_NROUTES; i++)
		for (j = 0; j < m->route[i].nstatus; j++)
			evbuffer_add_printf(out,
			    "heinzel_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
			    metrics_routes[i], m->route[i].status[j].code,
			    m->route[i].status[j].count);
	metrics_head(out, "heinzel_http_request_duration_seconds", "histogram",
	    "Time from request to answer.");
	for (i = 0; i < METRICS_NROUTES; i++) {
		if (m->route[i].count == 0)
			continue;
		for (j = 0; j < METRICS_NBUCKETS; j++)
			evbuffer_add_printf(out,
			    "heinzel_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    metrics_routes[i], metrics_buckets[j], m->route[i].bucket[j]);
		evbuffer_add_printf(out,
		    "heinzel_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "heinzel_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "heinzel_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    metrics_routes[i], m->route[i].count, metrics_routes[i],
		    m->route[i].sum, metrics_routes[i], m->route[i].count);
	}
	metrics_head(out, "heinzel_connections_open", "gauge",
	    "HTTP connections open now.");
	evbuffer_add_printf(out, "heinzel_connections_open %u\n", conns);
	metrics_head(out, "heinzel_start_time_seconds", "gauge",
	    "When heinzeld started.");
	evbuffer_add_printf(out, "heinzel_start_time_seconds %lld\n",
	    (long long)m->started);
}
