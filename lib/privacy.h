/*
 * Personal data (docs/privacy.md), in the style of store.h: command
 * builders and reply parsers, no I/O.  Two jobs:
 *
 * Retention.  The expire script erases, in batches, the IP address, user
 * agent and referrer of comments created more than [privacy] ip_keep ago
 * (walking the queues from {P}:privacy:ip_mark, the creation time up to
 * which that is done, so each run touches only what expired since), the
 * IP and user agent of the notifications that copied them
 * ({P}:privacy:notes), and the e-mail
 * address of comments refused more than refused_email_keep ago
 * ({P}:privacy:refused).  Every step is idempotent: several heinzeld on
 * one Redis may run it at once.
 *
 * A reader's data.  The subject script finds what is held for one e-mail
 * address through its index {P}:email:SHA1 (store.c keeps it) and exports
 * or erases it.  The keys named by a hash of a comment's text and address
 * (duplicate markers, flood counters) cannot be found from the address
 * alone: the caller reads the comments first, computes their names
 * (privacy_subject_keys) and runs the script again with them and the ids
 * it saw; the script acts only if the address still has exactly those
 * comments, so the whole export or erase is one atomic step.
 */
#ifndef HEINZEL_PRIVACY_H
#define HEINZEL_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

struct config;
struct store;
struct store_cmd;

enum privacy_script {
	PRIVACY_SCRIPT_EXPIRE,
	PRIVACY_SCRIPT_SUBJECT,
	PRIVACY_SCRIPT__COUNT
};

const char *privacy_script_source(enum privacy_script s);
/* Rewrite an EVALSHA command into EVAL with the script's source (NOSCRIPT). */
void privacy_cmd_to_eval(struct store_cmd *cmd, enum privacy_script s);

/* ---- retention ---- */

struct privacy_expired {
	long long comments;	/* comments whose IP, user agent, referrer went */
	long long notes;	/* notifications whose IP and user agent went */
	long long emails;	/* refused comments whose e-mail went */
	int more;		/* a batch was full: run again at once */
};

/*
 * Erase at most limit of each kind: IPs and user agents of comments
 * created up to ip_before_ms, e-mail addresses of comments refused up to
 * email_before_ms; and index at most limit comments stored before the
 * e-mail index existed (now_ms: from when comments were indexed as they
 * were stored, heinzeld's start; kept by the first run as the walk's end).
 */
void privacy_cmd_expire(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t ip_before_ms, uint64_t email_before_ms,
    unsigned int limit, uint64_t now_ms, const redisReply *need);
/*
 * Which comments and notifications a batch touches only Redis knows: ask
 * with need NULL; a reply for which store_need_reply is true names every
 * further key the batch wants, and nothing was written: ask again, the
 * same times, with it as need.
 */
int privacy_expire_reply(const redisReply *r, struct privacy_expired *e,
    const char **cause);

/* ---- a reader's data ---- */

enum privacy_mode { PRIVACY_EXPORT, PRIVACY_ERASE };

/*
 * The script for one address.  ids: the comment ids seen before (sorted,
 * space-separated), or NULL to read without that check (export only);
 * keys (nkeys of them): the hashed keys to include; need (nneed): the
 * keys the script asked for before (privacy_read_need).  Reply:
 *	{"need", KEY...}	it wants these keys too; nothing read or written
 *	{"changed"}	the address's comments are not ids any more
 *	{"export", comments, notifications, known, keys}
 *		comments: HGETALL arrays; notifications: {nid, HGETALL};
 *		known: known_authors entries; keys: {key, value, ttl_ms}
 *		for each of keys that exists
 *	{"erased", comments, notifications, known, keys}  (counts)
 */
void privacy_cmd_subject(const struct store *st, struct store_cmd *cmd,
    const char *sha, enum privacy_mode mode, const char *email,
    const char *ids, char *const *keys, size_t nkeys, char *const *need,
    size_t nneed);

/*
 * The hashed keys one stored comment (HGETALL pairs) names: its duplicate
 * markers, its e-mail's and its IP's flood counters.  Appended to
 * the array keys (n entries; allocated, caller frees), skipping names
 * already there.
 */
void privacy_subject_keys(const struct store *st, const redisReply *comment,
    unsigned int ipv6_prefix, char ***keys, size_t *n);

/* What a read (an export without the ids check) found, for the next run. */
struct privacy_read {
	char *ids;		/* the comment ids, space-separated */
	char **keys;		/* the hashed keys their fields name */
	size_t nkeys;
	char **need;		/* the keys the script asked for (privacy_read_need) */
	size_t nneed;
};

/*
 * Every key the script touches is in KEYS, and which comments and
 * notifications the address has, with their queues, posts and addresses,
 * only Redis knows: a reply {"need", KEY...} (store_need_reply) names
 * them and nothing was read of them nor written.  privacy_read_need: 1
 * if r is one, its keys kept in p->need for the next command (pass
 * p->need to privacy_cmd_subject), else 0.  A run with ids that answers
 * need is a changed address (privacy_subject_reply): read again.
 */
int privacy_read_need(const struct store *st, const redisReply *r,
    struct privacy_read *p);

/* From an export reply; -1 with *cause if r is not one. */
int privacy_read_parse(const struct store *st, const redisReply *r,
    unsigned int ipv6_prefix, struct privacy_read *p, const char **cause);
void privacy_read_free(struct privacy_read *p);

enum privacy_outcome { PRIVACY_DONE, PRIVACY_CHANGED };

/* The reply of a run with ids: done or changed; -1 with *cause. */
int privacy_subject_reply(const redisReply *r, enum privacy_outcome *o,
    const char **cause);

/*
 * An export reply as JSON: {"comments": [{field: value}], "notifications":
 * [{"id", field: value}], "known_author": [hash], "hashed_keys": [{"key",
 * "kind", "value", "expires_in_seconds"}]}; an erase reply as the counts
 * {"comments", "notifications", "known_author", "hashed_keys"}.
 */
json_t *privacy_export_json(const redisReply *r);
json_t *privacy_erased_json(const redisReply *r);

/*
 * A paragraph for the blog's privacy policy (docs/privacy.md), German or
 * English, with cfg's keep times filled in.  Caller frees.
 */
char *privacy_policy(const struct config *cfg, bool de);

#endif
