/*
 * Unit tests of the Bayes maths and of the Redis commands and replies of
 * its data model (no Redis needed here; test_bayes_store runs the scripts).
 *
 * The expected numbers are worked out by hand below each case, with
 * chi2q(x, 2k) = e^(-x/2) * sum_{i<k} (x/2)^i / i!.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "bayes_store.h"
#include "score.h"
#include "store.h"
#include "tokenize.h"

#define EPS 1e-6

static void
assert_near(double got, double want)
{
	if (fabs(got - want) > EPS) {
		print_error("got %.9f, want %.9f\n", got, want);
		fail();
	}
}

static void
words(struct tokens *t, const char *const *w)
{
	tokenize_init(t);
	for (; *w != NULL; w++)
		tokenize_add(t, NULL, *w, strlen(*w));
}

static void
test_token_prob(void **state)
{
	struct bayes_params p;
	struct bayes_counts c = { 10, 10 };
	struct bayes_token tc;

	(void)state;
	bayes_params_default(&p);
	assert_near(p.s, 1);
	assert_near(p.x, 0.5);

	/* 5 of 10 spam, no ham: p(w) = 1, n = 5: (0.5 + 5) / 6. */
	tc.spam = 5, tc.ham = 0;
	assert_near(bayes_token_prob(&p, &c, &tc), 5.5 / 6);
	/* A hapax: (0.5 + 1 * 1) / (1 + 1) = 0.75, never more. */
	tc.spam = 1, tc.ham = 0;
	assert_near(bayes_token_prob(&p, &c, &tc), 0.75);
	tc.spam = 0, tc.ham = 1;
	assert_near(bayes_token_prob(&p, &c, &tc), 0.25);
	/* As common in both: 0.5. */
	tc.spam = 2, tc.ham = 2;
	assert_near(bayes_token_prob(&p, &c, &tc), 0.5);
	/*
	 * Frequencies, not counts: nham = 20, so b = 2/10 = 0.2, g = 2/20 =
	 * 0.1, p(w) = 0.2 / 0.3 = 2/3, n = 4: (0.5 + 4 * 2/3) / 5 = 0.633333.
	 */
	c.nham = 20;
	assert_near(bayes_token_prob(&p, &c, &tc), (0.5 + 4.0 * 2 / 3) / 5);
	/* Never seen: x. */
	tc.spam = tc.ham = 0;
	assert_near(bayes_token_prob(&p, &c, &tc), 0.5);
	/* A token counted over the total (after an untrain) stays <= 1. */
	c.nspam = 1, c.nham = 10, tc.spam = 3, tc.ham = 0;
	assert_near(bayes_token_prob(&p, &c, &tc), 3.5 / 4);
	/* s = 0: the raw p(w). */
	p.s = 0;
	c.nspam = 10, tc.spam = 1, tc.ham = 1;
	assert_near(bayes_token_prob(&p, &c, &tc), (0.1 / 0.2));
}

static void
test_chi2q(void **state)
{
	(void)state;
	/* 2 dof: e^(-x/2); e^-1 = 0.367879441. */
	assert_near(bayes_chi2q(2, 2), 0.367879441);
	/* 4 dof: e^-2 (1 + 2) = 0.406005850. */
	assert_near(bayes_chi2q(4, 4), 0.406005850);
	assert_near(bayes_chi2q(0, 10), 1);
	assert_true(bayes_chi2q(2000, 300) < 1e-100);
	assert_true(bayes_chi2q(1e-9, 300) <= 1);
}

static void
test_combine(void **state)
{
	double f[3] = { 0 }, s, h;

	(void)state;
	assert_near(bayes_combine(f, 0, &s, &h), 0.5);

	/*
	 * One token: S = 1 - e^ln(1-f) = f, H = 1 - e^ln f = 1 - f, so the
	 * result is (1 + f - (1 - f)) / 2 = f.
	 */
	f[0] = 0.9;
	assert_near(bayes_combine(f, 1, &s, &h), 0.9);
	assert_near(s, 0.9);
	assert_near(h, 0.1);

	/*
	 * 0.9 and 0.8: sum ln(1-f) = ln 0.02, m = 3.912023, S = 1 - 0.02 *
	 * (1 + 3.912023) = 0.901760; sum ln f = ln 0.72, m = 0.328504, H = 1 -
	 * 0.72 * 1.328504 = 0.043477; (1 + S - H) / 2 = 0.929141.
	 */
	f[0] = 0.9, f[1] = 0.8;
	assert_near(bayes_combine(f, 2, &s, &h), 0.929141234);
	assert_near(s, 0.901759540);
	assert_near(h, 0.043477072);

	/* 0.9 against 0.1: S = H, exactly undecided. */
	f[0] = 0.9, f[1] = 0.1;
	assert_near(bayes_combine(f, 2, NULL, NULL), 0.5);

	/* Three strong spam tokens: S near 1, H near 0. */
	f[0] = f[1] = f[2] = 0.99;
	assert_true(bayes_combine(f, 3, NULL, NULL) > 0.9999);
	f[0] = f[1] = f[2] = 0.01;
	assert_true(bayes_combine(f, 3, NULL, NULL) < 0.0001);
}

static const char *const spam1[] = { "cheap", "pills", NULL };
static const char *const spam2[] = { "cheap", "casino", NULL };
static const char *const ham1[] = { "hello", "pills", NULL };
static const char *const ham2[] = { "thanks", "article", NULL };
static const char *const msg[] = { "cheap", "hello", "unknown", "pills", NULL };

/* Two spam and two ham messages in memory. */
static struct bayes_mem *
trained(void)
{
	struct bayes_mem *m = bayes_mem_new();
	struct tokens t;

	words(&t, spam1);
	bayes_mem_learn(m, &t, true, 1);
	tokenize_free(&t);
	words(&t, spam2);
	bayes_mem_learn(m, &t, true, 1);
	tokenize_free(&t);
	words(&t, ham1);
	bayes_mem_learn(m, &t, false, 1);
	tokenize_free(&t);
	words(&t, ham2);
	bayes_mem_learn(m, &t, false, 1);
	tokenize_free(&t);
	return m;
}

static void
test_classify(void **state)
{
	struct bayes_mem *m = trained();
	struct bayes_params p;
	struct bayes_counts c;
	struct bayes_result r;
	struct tokens t;

	(void)state;
	bayes_params_default(&p);
	bayes_mem_counts(m, &c);
	assert_int_equal(c.nspam, 2);
	assert_int_equal(c.nham, 2);
	words(&t, msg);

	/* Not trained enough by default (50 of each): neutral, no clue. */
	bayes_classify(&p, &c, &t, bayes_mem_lookup_cb, m, &r);
	assert_false(r.ready);
	assert_near(r.prob, 0.5);

	/*
	 * cheap: 2 of 2 spam, 0 ham: (0.5 + 2) / 3 = 0.833333.
	 * hello: 0 spam, 1 of 2 ham: 0.5 / 2 = 0.25.
	 * pills: 1 of 2 each: 0.5, too dull to count.  unknown: never seen.
	 * S = 1 - chi2q(-2 ln(1/6 * 3/4), 4): m = ln 8 = 2.079442,
	 * 1 - 0.125 * 3.079442 = 0.615070.
	 * H = 1 - chi2q(-2 ln(5/6 * 1/4), 4): m = 1.568616,
	 * 1 - 0.208333 * 2.568616 = 0.464872.
	 * (1 + S - H) / 2 = 0.575099.
	 */
	p.min_spam = p.min_ham = 1;
	bayes_classify(&p, &c, &t, bayes_mem_lookup_cb, m, &r);
	assert_true(r.ready);
	assert_int_equal(r.nclues, 2);
	assert_near(r.spamminess, 0.615069807);
	assert_near(r.hamminess, 0.464871684);
	assert_near(r.prob, 0.575099062);

	/* Only the farthest from 0.5: cheap alone, so f itself. */
	p.max_clues = 1;
	bayes_classify(&p, &c, &t, bayes_mem_lookup_cb, m, &r);
	assert_int_equal(r.nclues, 1);
	assert_near(r.prob, 2.5 / 3);
	p.max_clues = 150;
	p.min_dev = 0.3;
	bayes_classify(&p, &c, &t, bayes_mem_lookup_cb, m, &r);
	assert_int_equal(r.nclues, 1);
	assert_near(r.prob, 2.5 / 3);

	/* Untraining a spam message takes its counts away again. */
	tokenize_free(&t);
	words(&t, spam2);
	bayes_mem_learn(m, &t, true, -1);
	bayes_mem_counts(m, &c);
	assert_int_equal(c.nspam, 1);
	{
		struct bayes_token tc;

		assert_false(bayes_mem_lookup_cb(m, 0, "casino", &tc));
		assert_true(bayes_mem_lookup_cb(m, 0, "cheap", &tc));
		assert_int_equal(tc.spam, 1);
	}
	/* Never below zero. */
	bayes_mem_learn(m, &t, true, -1);
	bayes_mem_learn(m, &t, true, -1);
	bayes_mem_counts(m, &c);
	assert_int_equal(c.nspam, 0);
	tokenize_free(&t);
	bayes_mem_free(m);
}

static void
test_classify_counts(void **state)
{
	struct bayes_token counts[3] = { { 2, 0 }, { 0, 0 }, { 0, 1 } };
	struct bayes_counts c = { 2, 2 };
	static const char *const w[] = { "cheap", "unknown", "hello", NULL };
	struct bayes_params p;
	struct bayes_result r;
	struct tokens t;

	(void)state;
	bayes_params_default(&p);
	p.min_spam = p.min_ham = 2;
	words(&t, w);
	/* The same clues as in test_classify, from an array. */
	bayes_classify_counts(&p, &c, &t, counts, &r);
	assert_int_equal(r.nclues, 2);
	assert_near(r.prob, 0.575099062);
	tokenize_free(&t);

	/* No tokens: ready, undecided. */
	tokenize_init(&t);
	bayes_classify_counts(&p, &c, &t, counts, &r);
	assert_true(r.ready);
	assert_near(r.prob, 0.5);
	tokenize_free(&t);
}

static void
test_bands(void **state)
{
	struct bayes_result r;
	struct score s;
	double pts;

	(void)state;
	assert_string_equal(bayes_band(1, &pts), "BAYES_999");
	assert_string_equal(bayes_band(0.999, &pts), "BAYES_999");
	assert_near(pts, 5);
	assert_string_equal(bayes_band(0.995, &pts), "BAYES_99");
	assert_string_equal(bayes_band(0.96, &pts), "BAYES_95");
	assert_string_equal(bayes_band(0.8, &pts), "BAYES_80");
	assert_null(bayes_band(0.79, &pts));
	assert_near(pts, 0);
	assert_null(bayes_band(0.5, &pts));
	assert_null(bayes_band(0.2, &pts));
	assert_string_equal(bayes_band(0.19, &pts), "BAYES_20");
	assert_true(pts < 0);
	assert_string_equal(bayes_band(0.02, &pts), "BAYES_05");
	assert_string_equal(bayes_band(0.001, &pts), "BAYES_00");
	assert_string_equal(bayes_band(0, &pts), "BAYES_00");

	/* One hit when ready, none when not or when neutral. */
	memset(&r, 0, sizeof r);
	r.prob = 0.9999;
	score_init(&s);
	bayes_score(&r, &s);
	assert_int_equal(s.nhits, 0);
	r.ready = true;
	bayes_score(&r, &s);
	assert_int_equal(s.nhits, 1);
	assert_string_equal(s.hits[0].name, "BAYES_999");
	assert_near(s.total, 5);
	r.prob = 0.5;
	bayes_score(&r, &s);
	assert_int_equal(s.nhits, 1);
	r.prob = 0.004;
	bayes_score(&r, &s);
	assert_int_equal(s.nhits, 2);
	assert_string_equal(s.hits[1].name, "BAYES_00");
	score_free(&s);
}

/* ---- the Redis commands, without Redis ---- */

static redisReply *
reply_str(const char *s)
{
	redisReply *r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_STRING;
	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

static redisReply *
reply_int(long long v)
{
	redisReply *r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_INTEGER;
	r->integer = v;
	return r;
}

static redisReply *
reply_nil(void)
{
	redisReply *r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_NIL;
	return r;
}

static redisReply *
reply_array(size_t n, ...)
{
	redisReply *r = calloc(1, sizeof *r);
	va_list ap;
	size_t i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n + 1, sizeof *r->element);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

static void
reply_free(redisReply *r)
{
	size_t i;

	for (i = 0; i < r->elements; i++)
		reply_free(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}

static void
test_store_fetch(void **state)
{
	static const char *const w[] = { "cheap", "my channel", "url:x.test", NULL };
	struct bayes_token counts[3];
	struct bayes_counts c;
	struct store_cmd cmd;
	struct store st;
	struct tokens t;
	const char *cause;
	redisReply *r, err;

	(void)state;
	store_init(&st, "blog");
	words(&t, w);
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&st, &cmd, "0123abcd", &t);
	assert_int_equal(cmd.argc, 6);
	assert_string_equal(cmd.argv[0], "EVALSHA");
	assert_string_equal(cmd.argv[1], "0123abcd");
	assert_string_equal(cmd.argv[2], "2");
	assert_string_equal(cmd.argv[3], "{blog}:bayes:tokens");
	assert_string_equal(cmd.argv[4], "{blog}:bayes:meta");
	assert_string_equal(cmd.argv[5], "cheap\nmy channel\nurl:x.test");
	assert_int_equal(cmd.argvlen[5], 27);
	/* NOSCRIPT: the same command with the source. */
	bayes_store_cmd_to_eval(&cmd, BAYES_SCRIPT_FETCH);
	assert_string_equal(cmd.argv[0], "EVAL");
	assert_string_equal(cmd.argv[1], bayes_store_script_source(BAYES_SCRIPT_FETCH));
	assert_int_equal(cmd.argvlen[1], strlen(cmd.argv[1]));
	assert_string_equal(cmd.argv[3], "{blog}:bayes:tokens");
	store_cmd_free(&cmd);

	r = reply_array(5, reply_str("120"), reply_int(80),
	    reply_str("7 1 20000"), reply_nil(), reply_str("0 3 20001"));
	assert_int_equal(bayes_store_fetch_reply(r, 3, &c, counts, &cause), 0);
	assert_int_equal(c.nspam, 120);
	assert_int_equal(c.nham, 80);
	assert_int_equal(counts[0].spam, 7);
	assert_int_equal(counts[0].ham, 1);
	assert_int_equal(counts[1].spam, 0);
	assert_int_equal(counts[1].ham, 0);
	assert_int_equal(counts[2].ham, 3);
	/* Too few elements for the tokens asked. */
	assert_int_equal(bayes_store_fetch_reply(r, 4, &c, counts, &cause), -1);
	assert_non_null(strstr(cause, "Bayes fetch"));
	reply_free(r);

	/* A malformed value counts as never seen. */
	r = reply_array(3, reply_str("1"), reply_str("1"), reply_str("x y"));
	counts[0].spam = 9;
	assert_int_equal(bayes_store_fetch_reply(r, 1, &c, counts, &cause), 0);
	assert_int_equal(counts[0].spam, 0);
	reply_free(r);
	r = reply_array(3, reply_str("-1"), reply_str("1"), reply_nil());
	assert_int_equal(bayes_store_fetch_reply(r, 1, &c, counts, &cause), -1);
	reply_free(r);

	memset(&err, 0, sizeof err);
	err.type = REDIS_REPLY_ERROR;
	err.str = (char *)"NOSCRIPT No matching script";
	assert_int_equal(bayes_store_fetch_reply(&err, 0, &c, counts, &cause), -1);
	assert_string_equal(cause, "NOSCRIPT No matching script");
	assert_int_equal(bayes_store_fetch_reply(NULL, 0, &c, counts, &cause), -1);

	tokenize_free(&t);
	store_free(&st);
}

static void
test_store_learn(void **state)
{
	static const char *const w[] = { "a", "b", NULL };
	struct bayes_learn_result res;
	struct store_cmd cmd;
	struct store st;
	struct tokens t;
	const char *cause;
	redisReply *r;

	(void)state;
	store_init(&st, "heinzel");
	words(&t, w);
	store_cmd_init(&cmd);
	/* 2 days and a bit after the epoch. */
	bayes_store_cmd_learn(&st, &cmd, NULL, BAYES_LEARN_SPAM,
	    "{heinzel}:comment:x", &t, 2 * 86400000ULL + 5);
	assert_int_equal(cmd.argc, 9);
	assert_string_equal(cmd.argv[0], "EVAL");
	assert_string_equal(cmd.argv[1], bayes_store_script_source(BAYES_SCRIPT_LEARN));
	assert_string_equal(cmd.argv[2], "3");
	assert_string_equal(cmd.argv[5], "{heinzel}:comment:x");
	assert_string_equal(cmd.argv[6], "spam");
	assert_string_equal(cmd.argv[7], "2");
	assert_string_equal(cmd.argv[8], "a\nb");
	store_cmd_free(&cmd);

	bayes_store_cmd_learn(&st, &cmd, "sha", BAYES_LEARN_HAM, NULL, &t, 0);
	assert_int_equal(cmd.argc, 8);
	assert_string_equal(cmd.argv[2], "2");
	assert_string_equal(cmd.argv[5], "ham");
	store_cmd_free(&cmd);
	bayes_store_cmd_learn(&st, &cmd, "sha", BAYES_LEARN_FORGET, "k", &t, 0);
	assert_string_equal(cmd.argv[6], "forget");
	store_cmd_free(&cmd);

	r = reply_array(3, reply_str("relearned"), reply_int(4), reply_int(9));
	assert_int_equal(bayes_store_learn_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, BAYES_RELEARNED);
	assert_int_equal(res.nspam, 4);
	assert_int_equal(res.nham, 9);
	assert_string_equal(bayes_learn_outcome_name(res.outcome), "relearned");
	reply_free(r);
	r = reply_array(3, reply_str("learnt"), reply_int(4), reply_int(9));
	assert_int_equal(bayes_store_learn_reply(r, &res, &cause), -1);
	reply_free(r);
	r = reply_array(2, reply_str("learned"), reply_int(4));
	assert_int_equal(bayes_store_learn_reply(r, &res, &cause), -1);
	reply_free(r);

	tokenize_free(&t);
	store_free(&st);
}

static void
test_store_prune_stats(void **state)
{
	struct bayes_prune_result pr;
	struct bayes_stats bs;
	struct store_cmd cmd;
	struct store st;
	const char *cause;
	redisReply *r;

	(void)state;
	store_init(&st, "heinzel");
	store_cmd_init(&cmd);
	bayes_store_cmd_prune(&st, &cmd, "sha", "0", 1000, 30 * 86400000ULL,
	    BAYES_PRUNE_DAYS, BAYES_MAX_TOKENS);
	assert_int_equal(cmd.argc, 9);
	assert_string_equal(cmd.argv[2], "1");
	assert_string_equal(cmd.argv[3], "{heinzel}:bayes:tokens");
	assert_string_equal(cmd.argv[4], "0");
	assert_string_equal(cmd.argv[5], "1000");
	assert_string_equal(cmd.argv[6], "30");
	assert_string_equal(cmd.argv[7], "30");
	assert_string_equal(cmd.argv[8], "300000");
	store_cmd_free(&cmd);

	r = reply_array(3, reply_str("1792"), reply_int(12), reply_int(40000));
	assert_int_equal(bayes_store_prune_reply(r, &pr, &cause), 0);
	assert_string_equal(pr.cursor, "1792");
	assert_int_equal(pr.removed, 12);
	assert_int_equal(pr.ntokens, 40000);
	reply_free(r);
	r = reply_array(3, reply_str("17x"), reply_int(12), reply_int(40000));
	assert_int_equal(bayes_store_prune_reply(r, &pr, &cause), -1);
	reply_free(r);

	bayes_store_cmd_stats(&st, &cmd, NULL);
	assert_int_equal(cmd.argc, 5);
	assert_string_equal(cmd.argv[4], "{heinzel}:bayes:meta");
	store_cmd_free(&cmd);
	r = reply_array(3, reply_int(51), reply_int(60), reply_int(1234));
	assert_int_equal(bayes_store_stats_reply(r, &bs, &cause), 0);
	assert_int_equal(bs.nspam, 51);
	assert_int_equal(bs.nham, 60);
	assert_int_equal(bs.ntokens, 1234);
	reply_free(r);
	r = reply_str("OK");
	assert_int_equal(bayes_store_stats_reply(r, &bs, &cause), -1);
	reply_free(r);
	store_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_prob),
		cmocka_unit_test(test_chi2q),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_counts),
		cmocka_unit_test(test_bands),
		cmocka_unit_test(test_store_fetch),
		cmocka_unit_test(test_store_learn),
		cmocka_unit_test(test_store_prune_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
