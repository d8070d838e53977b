/*
 * What a notification says: the mail or the webhook's JSON made from a
 * notification as the outbox keeps it ({P}:notification:NID, see
 * store.h), with the templates.  No I/O but reading template files.
 */
#ifndef HEINZEL_NOTICE_H
#define HEINZEL_NOTICE_H

#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

struct config;

/* A field of the notification (its HGETALL reply), "" if absent. */
const char *notice_field(const redisReply *h, const char *name);

/*
 * The whole mail (RFC 5322, CRLF line breaks) into *msg (caller frees).
 * An admin mail gets every field a moderator needs; the author's mails
 * only what the author wrote, whatever the notification holds.  A
 * template file that fails its check is logged and the built-in one used.
 * -1 with *cause (caller frees): *permanent when trying again cannot
 * help (an address that cannot be mailed), else the configuration is at
 * fault ([smtp] from).
 */
int notice_mail(const redisReply *h, const struct config *cfg, time_t now,
    char **msg, size_t *len, char **cause, int *permanent);

/*
 * The webhook's JSON body (caller frees): event, id, post, post_title,
 * post_url, author, url,
 * excerpt, created_at, score, hold, hits, pending, approve (pending
 * only), notification; never the author's e-mail address or IP.  *key is
 * "ID.EVENT" for the Idempotency-Key header (caller frees).  NULL (and
 * no key) when the stored fields make no JSON: text that is not UTF-8, a
 * score that is not a finite number.
 */
char *notice_webhook(const redisReply *h, size_t *len, char **key);

#endif
