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

#include "bayes_store.h"
#include "privacy.h"
#include "store.h"

/*
 * Scripts are numbered in one table: the store's (enum store_script), then
 * the classifier's (DB_BAYES_SCRIPT(enum bayes_script)), then the privacy
 * ones (DB_PRIVACY_SCRIPT(enum privacy_script)).
 */
#define DB_BAYES_SCRIPT(s)	(STORE_SCRIPT__COUNT + (int)(s))
#define DB_PRIVACY_SCRIPT(s)	(DB_BAYES_SCRIPT(BAYES_SCRIPT__COUNT) + (int)(s))
#define DB_NSCRIPTS		DB_PRIVACY_SCRIPT(PRIVACY_SCRIPT__COUNT)

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
	unsigned long long switches;	/* to another master named by Sentinels */
	unsigned int inflight;
};

/*
 * secret_key names the site's secret ({P}:secret): at every connect it is
 * created if missing (SET NX, 32 random bytes in hex) and read, before
 * the connection counts as up.
 */
struct db *db_new(struct event_base *base, const struct store_addr *addr,
    const char *secret_key, unsigned int timeout_ms, unsigned int max_inflight);
void db_free(struct db *db);
/*
 * The site's secret as last read, shared by every heinzeld of the site
 * (it seals captcha ids); NULL until read once.
 */
const char *db_secret(const struct db *db);

/*
 * Connect (to the master the Sentinels name, if any; addr then holds it),
 * AUTH and PING once, synchronously (heinzeld -t).  With *cause
 * (caller frees): -1 when Redis cannot be reached, -2 when it refuses the
 * credentials or the password file cannot be read, -3 when a Sentinel
 * does (sentinel_password_file).
 */
int db_probe(struct store_addr *addr, unsigned int timeout_ms, char **cause);

/* Connected, authenticated and scripts loaded. */
bool db_up(const struct db *db);
const struct db_stats *db_stats(const struct db *db);

/* SHA1 of loaded script s (see above), or NULL (then EVAL is used). */
const char *db_script_sha(const struct db *db, int s);

/*
 * Send cmd (ownership moves to db; cmd is left empty).  script names the
 * script an EVALSHA runs (numbered as above), for the NOSCRIPT fallback,
 * or -1.  Returns -1
 * without calling cb when Redis is down or too many commands are in flight:
 * the caller answers 503 at once.
 */
int db_command(struct db *db, struct store_cmd *cmd, int script,
    db_reply_cb *cb, void *arg);

#endif
