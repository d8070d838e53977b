/*
 * Redis Sentinel: which server is the master now.  Each Sentinel is asked
 * in turn (SENTINEL get-master-addr-by-name), synchronously and briefly;
 * the first answer counts.
 */
#ifndef HEINZEL_SENTINEL_H
#define HEINZEL_SENTINEL_H

#include "store.h"

/* "HOST:PORT" (or "[V6]:PORT") well formed: NULL, else what is wrong. */
const char *sentinel_check(const char *s);

/*
 * Set a's host and port to the master of a->master_name.  1 when that
 * changed the address, 0 when it did not or a has no Sentinels, -1 with
 * *cause (caller frees) when no Sentinel named a master.
 */
int sentinel_resolve(struct store_addr *a, unsigned int timeout_ms,
    char **cause);

#endif
