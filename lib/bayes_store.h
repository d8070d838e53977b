/*
 * The Bayes classifier's data in Redis (docs/bayes.md), in the style of
 * store.h: command builders and reply parsers, no I/O.  Keys:
 *
 *	{P}:bayes:tokens	hash: token -> "SPAM HAM DAY", the messages of
 *				each class that held the token and the day
 *				(since the epoch) it was last trained
 *	{P}:bayes:meta		hash: nspam, nham (messages trained)
 *
 * and, on the message's own hash (a comment:ID), the field "learned"
 * ("spam" or "ham"): what it was trained as, so that learning it again
 * is a no-op and learning it as the other class first untrains it.
 *
 * Tokens travel joined by newlines in one argument (tokens hold no line
 * breaks), so a command's size does not grow with the message.
 */
#ifndef HEINZEL_BAYES_STORE_H
#define HEINZEL_BAYES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct bayes_counts;
struct bayes_token;
struct store;
struct store_cmd;
struct tokens;

enum bayes_script {
	BAYES_SCRIPT_FETCH,
	BAYES_SCRIPT_LEARN,
	BAYES_SCRIPT_PRUNE,
	BAYES_SCRIPT_STATS,
	BAYES_SCRIPT__COUNT
};

enum bayes_learn {
	BAYES_LEARN_HAM,
	BAYES_LEARN_SPAM,
	BAYES_LEARN_FORGET,	/* untrain what the message was trained as */
};

enum bayes_learn_outcome {
	BAYES_LEARNED,		/* trained */
	BAYES_RELEARNED,	/* untrained as the other class, trained */
	BAYES_UNCHANGED,	/* already trained as this class */
	BAYES_FORGOTTEN,	/* untrained */
	BAYES_NOT_LEARNED,	/* forget: it was never trained */
};

struct bayes_learn_result {
	enum bayes_learn_outcome outcome;
	unsigned long nspam, nham;	/* totals afterwards */
};

struct bayes_prune_result {
	char cursor[32];	/* "0" when the scan is complete */
	unsigned long removed;
	unsigned long ntokens;	/* tokens left */
};

struct bayes_stats {
	unsigned long nspam, nham, ntokens;
};

#define BAYES_PRUNE_DAYS	30	/* hapaxes untrained for this long go */
#define BAYES_MAX_TOKENS	300000	/* soft cap: over it, rarer tokens go */
#define BAYES_PRUNE_COUNT	1000	/* fields looked at per prune command */

/* The Lua source of a script (for SCRIPT LOAD). */
const char *bayes_store_script_source(enum bayes_script s);
/* Rewrite an EVALSHA command into EVAL with the script's source (NOSCRIPT). */
void bayes_store_cmd_to_eval(struct store_cmd *cmd, enum bayes_script s);

/*
 * Fetch nspam, nham and the counts of the message's tokens: one EVALSHA
 * (sha may be NULL: EVAL) doing two HMGETs.  The reply parser fills c and
 * counts[0..t->n) (zeroes for unknown tokens); -1 with *cause on an
 * unexpected reply.
 */
void bayes_store_cmd_fetch(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct tokens *t);
int bayes_store_fetch_reply(const redisReply *r, size_t ntokens,
    struct bayes_counts *c, struct bayes_token *counts, const char **cause);

/*
 * Train or untrain one message atomically.  msgkey (may be NULL) is the
 * message's hash, e.g. "{P}:comment:ID": its "learned" field makes the
 * step idempotent and turns a learn of the other class into untrain +
 * train (a rescue from spam); it is written only when the hash exists.
 * Without msgkey, HAM and SPAM always train and FORGET does nothing (bulk
 * import).  now_ms dates the tokens trained.
 */
void bayes_store_cmd_learn(const struct store *st, struct store_cmd *cmd,
    const char *sha, enum bayes_learn op, const char *msgkey,
    const struct tokens *t, uint64_t now_ms);
int bayes_store_learn_reply(const redisReply *r, struct bayes_learn_result *res,
    const char **cause);
const char *bayes_learn_outcome_name(enum bayes_learn_outcome o);

/*
 * One step of pruning: HSCAN the token hash from cursor ("0" to start)
 * over about count fields and delete the tokens seen in one message only
 * and not trained for days days; while the hash holds more than
 * max_tokens, also those seen in two messages or fewer whatever their age,
 * and in five or fewer when untrained for days days.  Run it again with
 * the returned cursor until it is "0".
 */
void bayes_store_cmd_prune(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *cursor, unsigned int count, uint64_t now_ms,
    unsigned int days, unsigned long max_tokens);
int bayes_store_prune_reply(const redisReply *r, struct bayes_prune_result *res,
    const char **cause);

/* nspam, nham and the number of tokens. */
void bayes_store_cmd_stats(const struct store *st, struct store_cmd *cmd,
    const char *sha);
int bayes_store_stats_reply(const redisReply *r, struct bayes_stats *res,
    const char **cause);

#endif
