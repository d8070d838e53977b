/*
 * The Redis data model, shared by heinzeld (async) and heinzelctl (sync):
 * key names, the Lua scripts that make every state change one atomic step,
 * the commands that run them and the parsers of their replies.  No I/O in
 * here: callers send the commands over whatever connection they own.
 *
 * Every key lives under "{PREFIX}:" so that one site's keys share one
 * Redis Cluster slot (see README, "Redis data model").
 */
#ifndef HEINZEL_STORE_H
#define HEINZEL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "captcha.h"

struct comment;
struct score;

#define STORE_ID_LEN 20		/* 12 hex digits of ms since the epoch + 8 random */

enum store_status {
	STORE_PENDING,
	STORE_APPROVED,
	STORE_SPAM,
	STORE_REJECTED,
	STORE__NSTATUS
};

/* Where Redis is. */
struct store_addr {
	char *path;		/* unix socket, or NULL */
	char *host;		/* TCP host, or NULL */
	int port;
	int db;
	char *user;		/* ACL user, or NULL (the default user) */
	char *password;		/* from the address, or NULL */
	char *password_file;	/* read at each connect, or NULL */
	char **sentinels;	/* "HOST:PORT", NULL-terminated, or NULL */
	char *master_name;	/* the master the Sentinels watch */
	char *sentinel_password_file;	/* read at each connect, or NULL */
};

struct store {
	char *prefix;		/* "heinzel" */
	char *tag;		/* "{heinzel}" */
};

/*
 * One command: its arguments, each NUL-terminated, one after the other in
 * one buffer owned by the command, so that building one costs a few
 * allocations, not one per argument.  The arrays grow as arguments are
 * added, so no input can make a command "too long": the number of
 * arguments depends on which fields a request carries.  Moving a command
 * (struct copy, then store_cmd_init on the source) hands its memory over.
 */
struct store_cmd {
	int argc;
	int cap;
	const char **argv;	/* argv[i] == buf + off[i], const for hiredis */
	size_t *argvlen;
	size_t *off;
	char *buf;
	size_t len;		/* bytes of buf in use */
	size_t size;
};

enum store_script {
	STORE_SCRIPT_SUBMIT,
	STORE_SCRIPT_TRANSITION,
	STORE_SCRIPT_PUBLISHED,
	STORE_SCRIPT_DEPTHS,
	STORE_SCRIPT_PURGE,
	STORE_SCRIPT_OUTBOX_EXPAND,
	STORE_SCRIPT_OUTBOX_DONE,
	STORE_SCRIPT_OUTBOX_FAIL,
	STORE_SCRIPT_OUTBOX_DUE,
	STORE_SCRIPT_OUTBOX_REQUEUE,
	STORE_SCRIPT_OUTBOX_DROP,
	STORE_SCRIPT_OUTBOX_TRIM,
	STORE_SCRIPT__COUNT
};

/*
 * Parse "unix:/path[?db=N]", "/path",
 * "redis://[[user]:pass@]host[:port][/db]".
 */
int store_addr_parse(const char *s, struct store_addr *a, char **cause);
/*
 * The [redis] section: parse address and add user, password_file and the
 * Sentinels.  -1 with *cause when they contradict each other.
 */
struct config;
int store_addr_config(struct store_addr *a, const struct config *cfg,
    char **cause);
/*
 * The AUTH command to send first on a connection, reading password_file
 * now (a changed password takes effect at the next connect); cmd is left
 * empty when no password is set.  -1 with *cause when the file cannot be
 * read.  The password never appears in a message.
 */
int store_addr_auth(const struct store_addr *a, struct store_cmd *cmd,
    char **cause);
/* The same for the Sentinels: AUTH with sentinel_password_file's password. */
int store_addr_sentinel_auth(const struct store_addr *a,
    struct store_cmd *cmd, char **cause);
void store_addr_free(struct store_addr *a);
/* The address for messages, never with the password.  Caller frees. */
char *store_addr_name(const struct store_addr *a);
/*
 * The same for an address as written, which may not parse: the password
 * as "***".  Caller frees.
 */
char *store_addr_redact(const char *s);

void store_init(struct store *st, const char *prefix);
void store_free(struct store *st);

const char *store_status_name(enum store_status s);	/* "pending", ... */
int store_status_parse(const char *s);			/* -1 if unknown */

/* A fresh, time-ordered comment id: out holds STORE_ID_LEN + 1 bytes. */
void store_new_id(char *out, uint64_t now_ms);
bool store_id_valid(const char *s);

/* Key names (caller frees). */
char *store_key(const struct store *st, const char *kind, const char *name);

/*
 * The keys a submission names by a hash of what the comment holds, for
 * finding them again (privacy.c): its duplicate marker by e-mail
 * (who CF_EMAIL), by IP (CF_IP) or its text's list of writers (CF_BODY),
 * its e-mail's flood counter, its IP's
 * flood counter (-1 if ip is not an address).  out holds STORE_KEY_MAX.
 */
#define STORE_KEY_MAX 160
void store_key_dup(const struct store *st, const struct comment *c,
    int who, char *out, size_t size);
void store_key_flood_email(const struct store *st, const struct comment *c,
    char *out, size_t size);
int store_key_flood_ip(const struct store *st, const char *ip,
    unsigned int ipv6_prefix, char *out, size_t size);

/*
 * The index of an e-mail address, {P}:email:SHA1 of its ASCII-lowercase
 * form (out holds STORE_KEY_MAX), and a known author's name in
 * {P}:known_authors, SHA1 of the lowercase address, LF and the lowercase
 * name (out holds 41 bytes; the comment has an e-mail address).  The same
 * names the scripts make with redis.sha1hex, computed here so that the
 * keys can go in KEYS.
 */
void store_key_email(const struct store *st, const char *email, size_t len,
    char *out, size_t size);
void store_known_author(const struct comment *c, char *out);

/* The Lua source of a script, and its SHA1 once known (set by the caller). */
const char *store_script_source(enum store_script s);

void store_cmd_init(struct store_cmd *cmd);
void store_cmd_free(struct store_cmd *cmd);
void store_cmd_add(struct store_cmd *cmd, const char *s, size_t len);	/* copied */
void store_cmd_adds(struct store_cmd *cmd, const char *s);		/* copied */
void store_cmd_addf(struct store_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The script reference: EVALSHA sha (sha not NULL), else EVAL source; then nkeys. */
void store_cmd_script_source(struct store_cmd *cmd, const char *sha,
    const char *source, int nkeys);
/* The same for one of the scripts above. */
void store_cmd_script(struct store_cmd *cmd, enum store_script s,
    const char *sha, int nkeys);
/* A key {P}:kind or {P}:kind:name as the next argument. */
void store_cmd_key(struct store_cmd *cmd, const struct store *st,
    const char *kind, const char *name);
/* HMGET {P}:kind:name (name may be NULL) and the fields up to a NULL. */
void store_cmd_hmget(struct store_cmd *cmd, const struct store *st,
    const char *kind, const char *name, ...) __attribute__((sentinel));
/* Element i of an array reply as a string (or status), or NULL. */
const char *store_reply_str(const redisReply *r, size_t i);
/* Rewrite an EVALSHA command into EVAL with the script's source (NOSCRIPT fallback). */
void store_cmd_eval_source(struct store_cmd *cmd, const char *source);
void store_cmd_to_eval(struct store_cmd *cmd, enum store_script s);

/* ---- submission ---- */

struct store_submit {
	const struct comment *comment;
	const struct score *score;
	const char *id;			/* fresh id for the comment */
	enum store_status status;	/* pending, approved or spam */
	bool hold;			/* score at or over hold_score */
	/*
	 * The captcha, checked by captcha_open: the script marks a genuine
	 * id used ({P}:captcha:ID until captcha_expires_ms), right or
	 * wrong, and refuses one used before.
	 */
	bool check_captcha;
	enum captcha_verdict captcha;
	uint64_t captcha_expires_ms;
	uint64_t now_ms;
	unsigned int request_id_ttl;
	unsigned int duplicate_window;
	/*
	 * auto_approve = known_author: a comment that would be pending
	 * without hold is stored as approved when an earlier comment with
	 * the same e-mail and name (both ASCII case-insensitive) was
	 * approved.
	 */
	bool approve_known_author;
	/*
	 * Flood control: at most limit submissions per window seconds from
	 * one IP network (when the comment has an IP: IPv4 addresses one by
	 * one, IPv6 per flood_ipv6_prefix bits) and one e-mail address;
	 * 0 = off.  The IP is counted before the captcha is looked at, so a
	 * flood spends none; the e-mail address only once the captcha
	 * passed, so that nobody can lock out an address not theirs.
	 */
	unsigned int flood_ip_limit, flood_ip_window, flood_ipv6_prefix;
	unsigned int flood_email_limit, flood_email_window;
	/*
	 * [privacy] ip_keep, seconds (0: no limit): the IP's flood counter
	 * and duplicate marker, which hold a hash of it, live no longer.
	 */
	unsigned int ip_keep;
	/*
	 * Whether the configuration names anyone to tell of the comment as
	 * pending, or as approved (store_notify_makes): only then does the
	 * script write the outbox event.
	 */
	bool tell_pending, tell_approved;
};

/*
 * One EVALSHA (sha may be NULL: plain EVAL) that, atomically: answers a
 * known request_id with its comment; counts the IP against its flood
 * limit; marks the captcha used, refusing one used before, and refuses
 * it as captcha_open judged it;
 * counts the e-mail address against its flood limit; refuses the same
 * text on the same post from the same e-mail address or IP;
 * stores the comment hash, its queue entry, the post index, the request_id
 * and the duplicate marker, and counts the outcome.  With
 * approve_known_author it promotes a pending comment of a known author to
 * approved (the reply's status says so).  Every comment stored as approved
 * makes its author known.  A comment stored as pending or approved adds
 * an event to the outbox ({P}:outbox) in the same step, so the
 * notifications it promises cannot be lost (see "notifications" below).
 */
void store_cmd_submit(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct store_submit *sub);

enum store_submit_outcome {
	SUBMIT_STORED,		/* id, status */
	SUBMIT_EXISTING,	/* same request_id: id of the first; its status
				   by store_cmd_comment_status */
	SUBMIT_CAPTCHA_UNKNOWN,	/* unknown, expired or already used */
	SUBMIT_CAPTCHA_WRONG,
	SUBMIT_CAPTCHA_TOO_FAST,
	SUBMIT_DUPLICATE,	/* id of the earlier comment */
	SUBMIT_RATE_LIMITED,	/* flood control: retry_after, flood_email */
};

struct store_submit_result {
	enum store_submit_outcome outcome;
	char id[STORE_ID_LEN + 1];
	enum store_status status;
	unsigned int retry_after;	/* seconds, when rate limited */
	bool flood_email;		/* the e-mail's counter, not the IP's */
};

/* Parse the script's reply; -1 with *cause on an unexpected reply. */
int store_submit_reply(const redisReply *r, struct store_submit_result *res, const char **cause);

/*
 * HGET {P}:comment:ID status: the status of the comment a repeated
 * request_id names (SUBMIT_EXISTING).  A comment deleted since is
 * reported as rejected: refused, not stored.
 */
void store_cmd_comment_status(const struct store *st, struct store_cmd *cmd,
    const char *id);
int store_comment_status_reply(const redisReply *r, enum store_status *status,
    const char **cause);

/* ---- moderation ---- */

enum store_action { ACTION_APPROVE, ACTION_REJECT, ACTION_SPAM, ACTION_DELETE,
    ACTION_UNPUBLISH };

const char *store_action_name(enum store_action a);

/* The scores a moderator's decision is judged by in the per-rule counts. */
struct store_thresholds {
	double hold_score;
	double reject_score;
};

/* How long {P}:rulestats:DAY is kept: rules stats --since goes this far. */
#define STORE_RULESTATS_DAYS 400

/*
 * One atomic state change of one comment: approve (from pending, spam or
 * rejected: publishes it), reject (from pending or spam), spam (from
 * pending, approved or rejected: unpublishes), unpublish (from approved
 * to rejected: off the published list, no spam training), delete (from
 * anywhere, removes every trace).  Records actor and time.  An approve adds the
 * author's e-mail, as the SHA1 of its lowercase form, to {P}:known_authors;
 * nothing removes it again (a later spam or delete neither), and adds an
 * "approved" event to the outbox in the same step.  An approve, reject,
 * spam or unpublish counts the comment's hits as published or refused in
 * {P}:rulestats and {P}:rulestats:DAY (store.c), judged by th; a change
 * of decision moves the counts, it never adds them twice.
 */
/*
 * Two steps, so that every key the change touches is in KEYS: first
 * store_cmd_transition_read (HMGET of the comment's post, email and
 * counted), then store_cmd_transition_from with that reply as seen, which
 * names the keys those values need.  If the comment changed in between,
 * the script writes nothing and answers TRANSITION_RETRY: read again.
 */
void store_cmd_transition_read(const struct store *st, struct store_cmd *cmd,
    const char *id);

/*
 * Only from the states in from_mask (bits 1 << enum store_status; 0 =
 * every state the action may leave): a compare-and-set for callers that
 * decided on what they saw, so that of two admins acting at once exactly
 * one wins.  A comment in another state is a conflict.
 */
void store_cmd_transition_from(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *id, const redisReply *seen,
    enum store_action action, unsigned int from_mask,
    const struct store_thresholds *th, const char *actor, uint64_t now_ms);

enum store_transition_outcome {
	TRANSITION_DONE,	/* from -> to */
	TRANSITION_NOT_FOUND,
	TRANSITION_CONFLICT,	/* already in a state the action cannot leave (from) */
	TRANSITION_RETRY,	/* changed since store_cmd_transition_read */
};

struct store_transition_result {
	enum store_transition_outcome outcome;
	int from;		/* enum store_status, -1 if unknown */
	int to;			/* enum store_status, -1 after delete */
	/* On a conflict: who moved it last and when (0 and "" if unknown). */
	const char *by;		/* borrowed from the reply */
	uint64_t at_ms;
};

int store_transition_reply(const redisReply *r, struct store_transition_result *res, const char **cause);

/* ---- reading ---- */

/* The public fields of a published comment, in this order. */
extern const char *const store_public_fields[];	/* NULL-terminated */

/*
 * The approved comments of a post, oldest first, from the first or the
 * one after the comment id after (NULL: from the first), at most
 * limit + 1: one array per comment holding store_public_fields' values
 * (nil where absent).  A reply of limit + 1 means there is another page.
 */
void store_cmd_published(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *post, unsigned int limit, const char *after,
    const redisReply *need);
/*
 * Every key the script reads is in KEYS, so the page's comments are named
 * in the command: ask first with need NULL; a reply for which
 * store_published_need is true lists the page's ids instead of the page:
 * ask again with it as need (the page changed in between: it asks again).
 * Only a reply that store_published_need accepted may be passed as need.
 */
bool store_published_need(const redisReply *r);

/* Queue depths and the oldest pending comment, for stats and metrics. */
struct store_depths {
	long long count[STORE__NSTATUS];
	long long oldest_pending_ms;	/* created_at, 0 when none pending */
	long long outbox;		/* entries of the outbox stream not yet done */
	long long outbox_retry;		/* notifications waiting for another try */
	long long outbox_dead;		/* notifications given up on */
	/* {P}:rulestats as field/value pairs (borrowed from the reply), or NULL */
	const redisReply *rulestats;
};

void store_cmd_depths(const struct store *st, struct store_cmd *cmd, const char *sha);
int store_depths_reply(const redisReply *r, struct store_depths *d, const char **cause);

/* ---- purge ---- */

/*
 * Delete for good at most limit spam comments that were written before
 * before_ms (ms since the epoch) and, if a moderator moved them to spam,
 * moved there before before_ms too: the spam folder keeps each comment
 * for the full keep time.  Counts "purged" in {P}:stats.  Run it again
 * while it purges limit comments.
 */
void store_cmd_purge(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t before_ms, unsigned int limit,
    const redisReply *need);
/*
 * Every key the purge touches is in KEYS, and which comments it purges
 * (their posts, their addresses) only Redis knows: ask with need NULL; a
 * reply for which store_need_reply is true names every further key the
 * purge wants, and nothing was written: ask again, the same before_ms,
 * with it as need (more when the comments changed in between).
 */
bool store_need_reply(const struct store *st, const redisReply *r);
/* The number purged; -1 with *cause on an unexpected reply. */
int store_purge_reply(const redisReply *r, long long *purged, const char **cause);

/* An integer reply (expand, requeue, drop); -1 with *cause otherwise. */
int store_integer_reply(const redisReply *r, long long *v, const char **cause);

#endif
