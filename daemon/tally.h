/*
 * The submissions' outcome counters in {P}:stats (submitted_STATUS,
 * captcha_WHY, rate_limited_WHICH, duplicate), added up in heinzeld and
 * written once a second: one HINCRBY per counter and second instead of
 * one per comment inside the submit script, where each write is also
 * appended to the AOF and replicated on its own.  A heinzeld killed
 * with SIGKILL loses at most the last second's counts; on SIGTERM they
 * are written before it exits.
 */
#ifndef HEINZEL_TALLY_H
#define HEINZEL_TALLY_H

#include <stdbool.h>

#include <event2/event.h>

struct db;
struct store;
struct tally;

enum tally_count {
	TALLY_SUBMITTED_PENDING,
	TALLY_SUBMITTED_APPROVED,
	TALLY_SUBMITTED_SPAM,
	TALLY_CAPTCHA_UNKNOWN,
	TALLY_CAPTCHA_WRONG,
	TALLY_CAPTCHA_TOO_FAST,
	TALLY_RATE_LIMITED_IP,
	TALLY_RATE_LIMITED_EMAIL,
	TALLY_DUPLICATE,
	TALLY__COUNT
};

struct tally *tally_new(struct event_base *base, struct db *db,
    const struct store *st);
/* After db_free: that answers the commands still in flight, with NULL. */
void tally_free(struct tally *t);

/* One more; written within a second. */
void tally_add(struct tally *t, enum tally_count c);

/* Nothing counted and not yet written, nothing waiting for Redis. */
bool tally_idle(const struct tally *t);

/*
 * Write what is counted now, and call done(arg) once Redis has answered
 * (at once when there is nothing to write; what cannot be sent is lost,
 * and logged): a step of a shutdown.
 */
void tally_flush(struct tally *t, void (*done)(void *), void *arg);

#endif
