/*
 * The notification outbox in Redis (store_outbox.c): commands and the
 * parsing of their replies, for heinzeld's notifier and heinzelctl.
 */
#ifndef HEINZEL_STORE_OUTBOX_H
#define HEINZEL_STORE_OUTBOX_H

#include "store.h"

/*
 * The outbox is a Redis Stream, {P}:outbox, read by heinzeld's notifier
 * through the consumer group STORE_OUTBOX_GROUP.  The submit and
 * transition scripts add events ("event" pending|approved, "id" COMMENT);
 * the expand script turns an event into one notification per recipient,
 * each a hash {P}:notification:NID with a stream entry "n" NID, and
 * acknowledges the event, in one step; an event that makes none under the
 * configuration is only acknowledged (store_notify_makes), many at once.
 * A notification is acknowledged (and its hash deleted) after delivery;
 * entries are acknowledged, never deleted one by one: store_cmd_outbox_trim
 * drops the ones done from time to time.  A failure moves it to
 * {P}:outbox:retry (a sorted set by due time) or, after the last try or on
 * a permanent error, to {P}:outbox:dead (by time of death).  Every move is
 * one script, so at every moment a notification is in exactly one place.
 */
#define STORE_OUTBOX_GROUP "notify"

/* One entry of an XREADGROUP or XAUTOCLAIM reply, borrowed from it. */
struct store_outbox_entry {
	const char *id;		/* stream entry id, "MS-SEQ" */
	const char *event;	/* "pending" or "approved", or NULL */
	const char *comment;	/* the event's comment id, or NULL */
	const char *nid;	/* the notification to send, or NULL */
};

/* XGROUP CREATE {P}:outbox notify 0 MKSTREAM (BUSYGROUP when it exists). */
void store_cmd_outbox_group(const struct store *st, struct store_cmd *cmd);

/*
 * XREADGROUP GROUP notify consumer COUNT count STREAMS {P}:outbox id:
 * id ">" for new entries, or an entry id ("0" first) to read this
 * consumer's own unacknowledged entries after it.  Never BLOCKs.
 */
void store_cmd_outbox_read(const struct store *st, struct store_cmd *cmd,
    const char *consumer, unsigned int count, const char *id);

/* XAUTOCLAIM: entries idle at least min_idle_ms, from cursor start ("0-0"). */
void store_cmd_outbox_claim(const struct store *st, struct store_cmd *cmd,
    const char *consumer, uint64_t min_idle_ms, const char *start,
    unsigned int count);

/*
 * The entries of a read or claim reply (NULL reply fields stay NULL for
 * a deleted entry).  *entries is allocated (caller frees the array, the
 * strings are the reply's); *next is XAUTOCLAIM's cursor or NULL.  -1
 * with *cause on an error reply or an unexpected shape.
 */
int store_outbox_entries(const redisReply *r, struct store_outbox_entry **entries,
    size_t *n, const char **next, const char **cause);

/* Who is told of an event, from the notifier's configuration. */
struct store_notify {
	char *const *admin;	/* NULL-terminated addresses, may be NULL */
	bool on_receipt;	/* the author of a pending comment */
	unsigned int receipt_interval;	/* s between receipts to one address, 0 any */
	bool on_approve;	/* the author of an approved comment */
	bool webhook;		/* one webhook notification per event */
	const char *lang;	/* for comments without de or en */
};

/*
 * Whether event makes any notification under nt, as the expand script
 * decides: a "pending" one for the admins, the author's receipt or a
 * webhook, an "approved" one for the author or a webhook.  One that
 * makes none needs only acknowledging.
 */
bool store_notify_makes(const struct store_notify *nt, const char *event);

/* XACK {P}:outbox notify ID...: the n entries ids, done. */
void store_cmd_outbox_ack(const struct store *st, struct store_cmd *cmd,
    const char *const *ids, size_t n);

/*
 * Drop the entries done: every one before the group's oldest
 * unacknowledged entry, or up to the last one delivered when none is
 * unacknowledged.  Reply: the number dropped.
 */
void store_cmd_outbox_trim(const struct store *st, struct store_cmd *cmd,
    const char *sha);

/*
 * Expand the event entry e into notifications (none for a comment since
 * deleted) and acknowledge it.  Admin notifications and webhooks copy the
 * comment with its e-mail, IP, score, hits and the pending count; the
 * author's notifications only what the author wrote (post, author, url,
 * body, created_at).  Reply: the number made.
 */
void store_cmd_outbox_expand(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct store_outbox_entry *e,
    const struct store_notify *nt, const char *email, const char *seq,
    uint64_t now_ms);
/*
 * Read first, so that every key the expansion touches is in KEYS: the
 * comment's e-mail address (HMGET {P}:comment:ID email), then
 * {P}:outbox:seq (GET); their strings (NULL for nil) are
 * store_cmd_outbox_expand's email and seq.  A reply of -1: the counter
 * moved in between, nothing was written, read again.
 */
void store_cmd_outbox_expand_read(const struct store *st,
    struct store_cmd *cmd, const char *comment_id);
void store_cmd_outbox_seq(const struct store *st, struct store_cmd *cmd);

/* HGETALL {P}:notification:NID */
void store_cmd_notification(const struct store *st, struct store_cmd *cmd,
    const char *nid);

/*
 * The address whose e-mail index lists a notification: its email, else
 * its to for the author's own ones (received, published); NULL: none.
 * Its kind, to and email never change once it is made.
 */
const char *store_note_address(const char *kind, const char *to,
    const char *email);

/* HMGET {P}:notification:NID kind to email, read before a drop. */
void store_cmd_note_read(const struct store *st, struct store_cmd *cmd,
    const char *nid);
/* store_note_address of that reply (NULL: none, or not such a reply). */
const char *store_note_read_address(const redisReply *r);

/*
 * Delivered: acknowledge the entry, delete the notification
 * (nid may be NULL: only the entry) with its index entries, address its
 * store_note_address, count "notify_sent_CHANNEL" in {P}:stats unless
 * channel is NULL.
 */
void store_cmd_outbox_done(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *entry_id, const char *nid,
    const char *address, const char *channel);

struct store_retry {
	unsigned int max_tries;		/* attempts in all */
	uint64_t base_ms;		/* the first wait; doubled each time */
	uint64_t max_ms;		/* the longest wait */
};

/*
 * Failed: acknowledge the entry, count the attempt and keep
 * reason; permanent or at max_tries to {P}:outbox:dead, else to
 * {P}:outbox:retry due after base_ms * 2^(attempts - 1), at most max_ms.
 */
void store_cmd_outbox_fail(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *entry_id, const char *nid,
    const char *channel, const char *reason, bool permanent,
    const struct store_retry *rt, uint64_t now_ms);

enum store_fail_outcome { FAIL_RETRY, FAIL_DEAD, FAIL_GONE };

struct store_fail_result {
	enum store_fail_outcome outcome;
	long long attempts;
	uint64_t due_ms;		/* FAIL_RETRY */
};

int store_outbox_fail_reply(const redisReply *r, struct store_fail_result *res,
    const char **cause);

/* Move at most limit notifications due by now_ms back into the outbox. */
void store_cmd_outbox_due(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t now_ms, unsigned int limit);
/* The number moved and the next due time (0: none waiting). */
int store_outbox_due_reply(const redisReply *r, long long *moved,
    uint64_t *next_ms, const char **cause);

/*
 * Send again now: the n dead or waiting notifications nids, with their
 * attempts reset (every dead one: read {P}:outbox:dead first).  Reply:
 * the number requeued.
 */
void store_cmd_outbox_requeue(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *const *nids, size_t n);

/*
 * Forget a dead or waiting notification, address its store_note_address
 * (store_cmd_note_read first).  Reply: 1, or 0 if not there.
 */
void store_cmd_outbox_drop(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *nid, const char *address);

#endif
