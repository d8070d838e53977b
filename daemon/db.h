/*
 * Asynchronous Redis for heinzeld: one hiredis connection on the libevent
 * loop, reconnected with backoff, with a command timeout of our own
 * (hiredis 0.14 has none) and a bound on commands in flight.
 */
#ifndef HEINZEL_DB_H
#define HEINZEL_DB_H

#include <stdbool.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "store.h"

struct db;

/*
 * Called exactly once per command: with the reply, or NULL when Redis was
 * unreachable, timed out or the connection dropped.  The reply is valid
 * until the callback returns.
 */
typedef void db_reply_cb(redisReply *reply, void *arg);

struct db_stats {
	unsigned long long commands;
	unsigned long long failures;	/* NULL replies */
	unsigned long long timeouts;
	unsigned long long reconnects;
	unsigned int inflight;
};

struct db *db_new(struct event_base *base, const struct store_addr *addr,
    unsigned int timeout_ms, unsigned int max_inflight);
void db_free(struct db *db);

/* Connected, authenticated and scripts loaded. */
bool db_up(const struct db *db);
const struct db_stats *db_stats(const struct db *db);

/* SHA1 of a loaded script for store_cmd_*, or NULL (then EVAL is used). */
const char *db_script_sha(const struct db *db, enum store_script s);

/*
 * Send cmd (ownership moves to db; cmd is left empty).  script names the
 * script an EVALSHA runs, for the NOSCRIPT fallback, or -1.  Returns -1
 * without calling cb when Redis is down or too many commands are in flight:
 * the caller answers 503 at once.
 */
int db_command(struct db *db, struct store_cmd *cmd, int script,
    db_reply_cb *cb, void *arg);

#endif
