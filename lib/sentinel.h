/*
 * Redis Sentinel: which server is the master now.  Each Sentinel is asked
 * in turn (SENTINEL get-master-addr-by-name), synchronously and briefly;
 * the first answer counts.
 */
#ifndef HEINZEL_SENTINEL_H
#define HEINZEL_SENTINEL_H

#include <stdbool.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "store.h"

/* "HOST:PORT" (or "[V6]:PORT") well formed: NULL, else what is wrong. */
const char *sentinel_check(const char *s);

/* Split s into *host (caller frees) and *port; -1 when malformed. */
int sentinel_parse(const char *s, char **host, int *port);

/*
 * Set a's host and port to the master of a->master_name.  1 when that
 * changed the address, 0 when it did not or a has no Sentinels; when no
 * Sentinel named a master, with *cause (caller frees) -2 if one refused
 * the login or sentinel_password_file cannot be read, else -1.
 */
int sentinel_resolve(struct store_addr *a, unsigned int timeout_ms,
    char **cause);

/*
 * Connect to a (resolved) address, blocking at most tv per step, and send
 * the login command auth (none when auth->argc is 0).  The context, or NULL
 * with *cause (caller frees): *refused tells a refused login (cause is
 * Redis's error) from an unreachable server (cause is hiredis's).
 */
redisContext *sentinel_connect(const struct store_addr *a,
    const struct store_cmd *auth, struct timeval tv, char **cause,
    bool *refused);

#endif
