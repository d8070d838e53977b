/* Counters for /metrics, in the Prometheus text format. */
#ifndef HEINZEL_METRICS_H
#define HEINZEL_METRICS_H

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

struct db;
struct ruleset;
struct score;

enum metric_counter {
	METRIC_CAPTCHA_ISSUED,
	METRIC_CAPTCHA_FAILED,
	METRIC_RULE_LIMIT,		/* matches stopped by a PCRE2 limit */
	METRIC_RELOADS,
	METRIC_RELOAD_FAILURES,
	METRIC__COUNT
};

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_count(struct metrics *m, enum metric_counter c);
void metrics_request(struct metrics *m, const char *route, int status, double seconds);
/* A submission's outcome: pending, approved, spam, captcha, invalid, duplicate, unavailable. */
void metrics_outcome(struct metrics *m, const char *outcome);
void metrics_rule_hits(struct metrics *m, const struct score *s);
void metrics_reloaded(struct metrics *m, int ok, size_t nrules);
/*
 * A notification attempt: channel "mail" or "webhook", result "sent",
 * "failed" (any failed attempt), "retried" (scheduled again) or "dead".
 */
void metrics_notify(struct metrics *m, const char *channel, const char *result);
/* Call fn(arg) after each stored (pending or approved) submission; NULL: none. */
void metrics_on_stored(struct metrics *m, void (*fn)(void *), void *arg);

/* Write every metric; depths is the reply to store_cmd_depths() or NULL. */
void metrics_render(struct metrics *m, const struct db *db,
    const struct ruleset *rs, const redisReply *depths, unsigned int conns,
    struct evbuffer *out);

#endif
