/*
 * The Bayes classifier's data in Redis: one hash of token counts, one of
 * totals, and Lua scripts so that training a message is one atomic step
 * (see bayes_store.h and docs/bayes.md).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "bayes_store.h"
#include "lua_scripts.h"
#include "store.h"
#include "tokenize.h"
#include "xmalloc.h"

#define BAYES_DAY_MS	86400000ULL

static const char *const bayes_scripts[BAYES_SCRIPT__COUNT] = {
	lua_bayes_fetch, lua_bayes_learn, lua_bayes_prune, lua_bayes_stats
};

static const char *const bayes_outcome_names[] = {
	"learned", "relearned", "unchanged", "forgotten", "not_learned"
};

const char *
bayes_store_script_source(enum bayes_script s)
{
	return bayes_scripts[s];
}

const char *
bayes_learn_outcome_name(enum bayes_learn_outcome o)
{
	return bayes_outcome_names[o];
}

static void
bayes_store_script(struct store_cmd *cmd, enum bayes_script s, const char *sha,
    int nkeys)
{
	store_cmd_script_source(cmd, sha, bayes_scripts[s], nkeys);
}

void
bayes_store_cmd_to_eval(struct store_cmd *cmd, enum bayes_script s)
{
	store_cmd_eval_source(cmd, bayes_scripts[s]);
}

static void
bayes_store_keys(const struct store *st, struct store_cmd *cmd)
{
	store_cmd_addf(cmd, "%s:bayes:tokens", st->tag);
	store_cmd_addf(cmd, "%s:bayes:meta", st->tag);
}

static void
bayes_store_tokens(struct store_cmd *cmd, const struct tokens *t)
{
	size_t len;
	char *s;

	s = tokenize_join(t, &len);
	store_cmd_add(cmd, s, len);
	free(s);
}

void
bayes_store_cmd_fetch(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct tokens *t)
{
	bayes_store_script(cmd, BAYES_SCRIPT_FETCH, sha, 2);
	bayes_store_keys(st, cmd);
	bayes_store_tokens(cmd, t);
}

/* A count from an integer or string reply element. */
static int
bayes_store_ulong(const redisReply *r, unsigned long *out)
{
	char *end;

	if (r->type == REDIS_REPLY_INTEGER) {
		if (r->integer < 0)
			return -1;
		*out = (unsigned long)r->integer;
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->str[0] == '-')
		return -1;
	*out = strtoul(r->str, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* "SPAM HAM DAY" into counts; a malformed value counts as unknown. */
static void
bayes_store_parse_counts(const char *s, struct bayes_token *tc)
{
	unsigned long spam, ham;
	char *end;

	tc->spam = tc->ham = 0;
	if (s[0] < '0' || s[0] > '9')
		return;
	spam = strtoul(s, &end, 10);
	if (*end != ' ' || end[1] < '0' || end[1] > '9')
		return;
	ham = strtoul(end + 1, &end, 10);
	if (*end != ' ' && *end != '\0')
		return;
	tc->spam = spam;
	tc->ham = ham;
}

static int
bayes_store_error(const redisReply *r, const char **cause)
{
	if (r == NULL) {
		*cause = "no reply";
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = r->str;
		return -1;
	}
	return 0;
}

int
bayes_store_fetch_reply(const redisReply *r, size_t ntokens,
    struct bayes_counts *c, struct bayes_token *counts, const char **cause)
{
	const redisReply *e;
	size_t i;

	if (bayes_store_error(r, cause) != 0)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != ntokens + 2 ||
	    bayes_store_ulong(r->element[0], &c->nspam) != 0 ||
	    bayes_store_ulong(r->element[1], &c->nham) != 0)
		goto bad;
	for (i = 0; i < ntokens; i++) {
		e = r->element[i + 2];
		if (e->type == REDIS_REPLY_NIL)
			counts[i].spam = counts[i].ham = 0;
		else if (e->type == REDIS_REPLY_STRING)
			bayes_store_parse_counts(e->str, &counts[i]);
		else
			goto bad;
	}
	return 0;
bad:
	*cause = "unexpected reply from the Bayes fetch script";
	return -1;
}

void
bayes_store_cmd_learn(const struct store *st, struct store_cmd *cmd,
    const char *sha, enum bayes_learn op, const char *msgkey,
    const struct tokens *t, uint64_t now_ms)
{
	static const char *const ops[] = { "ham", "spam", "forget" };

	bayes_store_script(cmd, BAYES_SCRIPT_LEARN, sha, msgkey != NULL ? 3 : 2);
	bayes_store_keys(st, cmd);
	if (msgkey != NULL)
		store_cmd_adds(cmd, msgkey);
	store_cmd_adds(cmd, ops[op]);
	store_cmd_addf(cmd, "%" PRIu64, (uint64_t)(now_ms / BAYES_DAY_MS));
	bayes_store_tokens(cmd, t);
}

int
bayes_store_learn_reply(const redisReply *r, struct bayes_learn_result *res,
    const char **cause)
{
	const redisReply *e;
	size_t i;

	memset(res, 0, sizeof *res);
	if (bayes_store_error(r, cause) != 0)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		goto bad;
	e = r->element[0];
	if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS)
		goto bad;
	for (i = 0; i < sizeof bayes_outcome_names / sizeof bayes_outcome_names[0]; i++)
		if (strcmp(e->str, bayes_outcome_names[i]) == 0)
			break;
	if (i == sizeof bayes_outcome_names / sizeof bayes_outcome_names[0])
		goto bad;
	res->outcome = (enum bayes_learn_outcome)i;
	if (bayes_store_ulong(r->element[1], &res->nspam) != 0 ||
	    bayes_store_ulong(r->element[2], &res->nham) != 0)
		goto bad;
	return 0;
bad:
	*cause = "unexpected reply from the Bayes learn script";
	return -1;
}

void
bayes_store_cmd_prune(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *cursor, unsigned int count, uint64_t now_ms,
    unsigned int days, unsigned long max_tokens)
{
	bayes_store_script(cmd, BAYES_SCRIPT_PRUNE, sha, 1);
	store_cmd_addf(cmd, "%s:bayes:tokens", st->tag);
	store_cmd_adds(cmd, cursor);
	store_cmd_addf(cmd, "%u", count);
	store_cmd_addf(cmd, "%" PRIu64, (uint64_t)(now_ms / BAYES_DAY_MS));
	store_cmd_addf(cmd, "%u", days);
	store_cmd_addf(cmd, "%lu", max_tokens);
}

int
bayes_store_prune_reply(const redisReply *r, struct bayes_prune_result *res,
    const char **cause)
{
	const redisReply *e;

	memset(res, 0, sizeof *res);
	if (bayes_store_error(r, cause) != 0)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		goto bad;
	e = r->element[0];
	if (e->type != REDIS_REPLY_STRING || e->len == 0 ||
	    e->len >= sizeof res->cursor || strspn(e->str, "0123456789") != e->len)
		goto bad;
	memcpy(res->cursor, e->str, e->len + 1);
	if (bayes_store_ulong(r->element[1], &res->removed) != 0 ||
	    bayes_store_ulong(r->element[2], &res->ntokens) != 0)
		goto bad;
	return 0;
bad:
	*cause = "unexpected reply from the Bayes prune script";
	return -1;
}

void
bayes_store_cmd_stats(const struct store *st, struct store_cmd *cmd, const char *sha)
{
	bayes_store_script(cmd, BAYES_SCRIPT_STATS, sha, 2);
	bayes_store_keys(st, cmd);
}

int
bayes_store_stats_reply(const redisReply *r, struct bayes_stats *res,
    const char **cause)
{
	memset(res, 0, sizeof *res);
	if (bayes_store_error(r, cause) != 0)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    bayes_store_ulong(r->element[0], &res->nspam) != 0 ||
	    bayes_store_ulong(r->element[1], &res->nham) != 0 ||
	    bayes_store_ulong(r->element[2], &res->ntokens) != 0) {
		*cause = "unexpected reply from the Bayes stats script";
		return -1;
	}
	return 0;
}
