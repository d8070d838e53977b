/*
 * The notifier: delivers the outbox (lib/store.h, "notifications") by
 * SMTP and by webhook, with libcurl's multi interface on the event loop:
 * no blocking call, no thread, no process per mail.
 */
#ifndef HEINZEL_NOTIFY_H
#define HEINZEL_NOTIFY_H

#include <event2/event.h>

struct config;
struct db;
struct metrics;
struct store;
struct store_notify;
struct notify;

/*
 * cfg is read at each step, so a reload's relay, recipients, templates
 * and retry limits apply to the next delivery.  Registers with m to be
 * woken when a submission is stored.
 */
struct notify *notify_new(struct event_base *base, struct db *db,
    const struct store *st, const struct config *const *cfg,
    struct metrics *m);
/* After db_free: every Redis callback has run.  Aborts deliveries in flight. */
void notify_free(struct notify *n);

/* Look at the outbox now instead of at the next poll. */
void notify_wake(struct notify *n);

/* Who cfg tells of events: mail (when it is on) and the webhook. */
void notify_channels(const struct config *cfg, struct store_notify *nt);

#endif
