/*
 * Deliveries with libcurl's multi interface on the event loop: a mail to
 * the relay (curl connects, greets, does TLS and AUTH; smtp.c speaks the
 * transaction) or a JSON POST to the webhook.  No blocking call, no
 * thread, no process per delivery.
 */
#ifndef HEINZEL_DELIVER_H
#define HEINZEL_DELIVER_H

#include <stddef.h>

#include <event2/event.h>

struct config;
struct deliver;
struct deliver_job;

/*
 * The outcome, once, from the event loop: ok after the relay's 2xx to
 * the end of the data (a webhook's 2xx); else permanent when trying again
 * cannot help (the relay's 5xx, a webhook's 4xx but 408 and 429), and
 * reason says why (valid until the callback returns).  The job is freed
 * after the callback.
 */
typedef void deliver_cb(int ok, int permanent, const char *reason, void *arg);

struct deliver *deliver_new(struct event_base *base);
/* Cancels what is in flight, without callbacks. */
void deliver_free(struct deliver *d);

/*
 * Send msg (the whole message, CRLF line breaks; copied) to to through
 * cfg's [smtp] relay.  NULL with *cause (caller frees) when it cannot
 * start: [smtp] from or password_file are at fault.
 */
struct deliver_job *deliver_mail(struct deliver *d, const struct config *cfg,
    const char *to, const char *msg, size_t len, deliver_cb *cb, void *arg,
    char **cause);

/* POST body (JSON; copied) to cfg's [notify] webhook, with Idempotency-Key: key. */
struct deliver_job *deliver_webhook(struct deliver *d, const struct config *cfg,
    const char *key, const char *body, size_t len, deliver_cb *cb, void *arg);

/* Stop a job; its callback is not called. */
void deliver_cancel(struct deliver_job *j);

#endif
