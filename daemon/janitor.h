/*
 * Housekeeping on timers: spam older than [moderation] spam_keep_days goes,
 * and personal data older than the [privacy] keep times.
 */
#ifndef HEINZEL_JANITOR_H
#define HEINZEL_JANITOR_H

#include <event2/event.h>

struct db;
struct store;
struct config;
struct janitor;

/* cfg is read at each run, so a reload's new spam_keep_days applies. */
struct janitor *janitor_new(struct event_base *base, struct db *db,
    const struct store *st, const struct config *const *cfg);
void janitor_free(struct janitor *j);

#endif
