/*
 * The Bayes Lua scripts against a real redis-server, started privately on
 * a Unix socket in a temporary directory.  Skipped where redis-server is
 * not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bayes.h"
#include "bayes_store.h"
#include "store.h"
#include "tokenize.h"

#define DAY_MS	86400000ULL
#define NOW_MS	(20000 * DAY_MS + 1234)

struct server {
	char dir[64];
	char sock[128];
	pid_t pid;
	redisContext *c;
	struct store st;
};

static int
server_start(void **state)
{
	struct server *s = calloc(1, sizeof *s);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	redisReply *r;
	int i, fd;

	strcpy(s->dir, "/tmp/heinzel-bayes-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
	if ((s->pid = fork()) == -1)
		return -1;
	if (s->pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", "0",
		    "--unixsocket", s->sock, "--dir", s->dir, "--save", "",
		    "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 250; i++) {
		nanosleep(&ts, NULL);
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;	/* not installed, or failed */
			break;
		}
		s->c = redisConnectUnix(s->sock);
		if (s->c != NULL && s->c->err == 0) {
			r = redisCommand(s->c, "PING");
			if (r != NULL) {
				freeReplyObject(r);
				break;
			}
		}
		if (s->c != NULL)
			redisFree(s->c);
		s->c = NULL;
	}
	store_init(&s->st, "t");
	*state = s;
	return 0;
}

static int
server_stop(void **state)
{
	struct server *s = *state;
	char path[256];

	if (s->c != NULL)
		redisFree(s->c);
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	unlink(s->sock);
	snprintf(path, sizeof path, "%s/dump.rdb", s->dir);
	unlink(path);
	rmdir(s->dir);
	store_free(&s->st);
	free(s);
	return 0;
}

static struct server *
server(void **state)
{
	struct server *s = *state;
	redisReply *r;

	if (s->c == NULL)
		skip();
	r = redisCommand(s->c, "FLUSHALL");
	freeReplyObject(r);
	return s;
}

static redisReply *
run(struct server *s, struct store_cmd *cmd)
{
	redisReply *r;

	r = redisCommandArgv(s->c, cmd->argc, cmd->argv, cmd->argvlen);
	assert_non_null(r);
	store_cmd_free(cmd);
	return r;
}

static void
words(struct tokens *t, const char *list)
{
	const char *p = list, *e;

	tokenize_init(t);
	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		tokenize_add(t, NULL, p, (size_t)(e - p));
		p = *e != '\0' ? e + 1 : e;
	}
}

static void
learn(struct server *s, enum bayes_learn op, const char *msgkey,
    const char *list, enum bayes_learn_outcome want, unsigned long nspam,
    unsigned long nham)
{
	struct bayes_learn_result res;
	struct store_cmd cmd;
	struct tokens t;
	const char *cause;
	redisReply *r;

	words(&t, list);
	store_cmd_init(&cmd);
	bayes_store_cmd_learn(&s->st, &cmd, NULL, op, msgkey, &t, NOW_MS);
	r = run(s, &cmd);
	if (bayes_store_learn_reply(r, &res, &cause) != 0) {
		print_error("learn: %s\n", cause);
		fail();
	}
	assert_int_equal(res.outcome, want);
	assert_int_equal(res.nspam, nspam);
	assert_int_equal(res.nham, nham);
	freeReplyObject(r);
	tokenize_free(&t);
}

/* The counts of the tokens in list, as the daemon would fetch them. */
static void
fetch(struct server *s, const char *list, struct bayes_counts *c,
    struct bayes_token *counts)
{
	struct store_cmd cmd;
	struct tokens t;
	const char *cause;
	redisReply *r;

	words(&t, list);
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&s->st, &cmd, NULL, &t);
	r = run(s, &cmd);
	if (bayes_store_fetch_reply(r, t.n, c, counts, &cause) != 0) {
		print_error("fetch: %s\n", cause);
		fail();
	}
	freeReplyObject(r);
	tokenize_free(&t);
}

static void
test_learn_fetch(void **state)
{
	struct server *s = server(state);
	struct bayes_token tc[4];
	struct bayes_counts c;
	struct bayes_stats st;
	struct store_cmd cmd;
	const char *cause;
	redisReply *r;

	/* Nothing trained yet. */
	fetch(s, "cheap pills", &c, tc);
	assert_int_equal(c.nspam, 0);
	assert_int_equal(tc[0].spam + tc[0].ham, 0);

	learn(s, BAYES_LEARN_SPAM, NULL, "cheap pills", BAYES_LEARNED, 1, 0);
	learn(s, BAYES_LEARN_SPAM, NULL, "cheap casino", BAYES_LEARNED, 2, 0);
	learn(s, BAYES_LEARN_HAM, NULL, "thanks pills", BAYES_LEARNED, 2, 1);
	fetch(s, "cheap pills casino unknown", &c, tc);
	assert_int_equal(c.nspam, 2);
	assert_int_equal(c.nham, 1);
	assert_int_equal(tc[0].spam, 2);
	assert_int_equal(tc[0].ham, 0);
	assert_int_equal(tc[1].spam, 1);
	assert_int_equal(tc[1].ham, 1);
	assert_int_equal(tc[2].spam, 1);
	assert_int_equal(tc[3].spam + tc[3].ham, 0);

	/* The value format docs/bayes.md promises: "SPAM HAM DAY". */
	r = redisCommand(s->c, "HGET {t}:bayes:tokens pills");
	assert_string_equal(r->str, "1 1 20000");
	freeReplyObject(r);

	/* Without a message key, forget has nothing to go by. */
	learn(s, BAYES_LEARN_FORGET, NULL, "cheap", BAYES_NOT_LEARNED, 2, 1);

	store_cmd_init(&cmd);
	bayes_store_cmd_stats(&s->st, &cmd, NULL);
	r = run(s, &cmd);
	assert_int_equal(bayes_store_stats_reply(r, &st, &cause), 0);
	assert_int_equal(st.nspam, 2);
	assert_int_equal(st.nham, 1);
	assert_int_equal(st.ntokens, 4);
	freeReplyObject(r);
}

static void
test_relearn(void **state)
{
	struct server *s = server(state);
	struct bayes_token tc[3];
	struct bayes_counts c;
	redisReply *r;

	learn(s, BAYES_LEARN_HAM, NULL, "hello world", BAYES_LEARNED, 0, 1);
	r = redisCommand(s->c, "HSET {t}:comment:1 body x");
	freeReplyObject(r);

	/* Held as spam by a moderator: trained once, however often. */
	learn(s, BAYES_LEARN_SPAM, "{t}:comment:1", "cheap world",
	    BAYES_LEARNED, 1, 1);
	learn(s, BAYES_LEARN_SPAM, "{t}:comment:1", "cheap world",
	    BAYES_UNCHANGED, 1, 1);
	r = redisCommand(s->c, "HGET {t}:comment:1 learned");
	assert_string_equal(r->str, "spam");
	freeReplyObject(r);

	/* Rescued: untrained as spam, trained as ham. */
	learn(s, BAYES_LEARN_HAM, "{t}:comment:1", "cheap world",
	    BAYES_RELEARNED, 0, 2);
	fetch(s, "cheap world hello", &c, tc);
	assert_int_equal(tc[0].spam, 0);
	assert_int_equal(tc[0].ham, 1);
	assert_int_equal(tc[1].spam, 0);
	assert_int_equal(tc[1].ham, 2);

	/* Forgotten: every count it added is gone, and the token with it. */
	learn(s, BAYES_LEARN_FORGET, "{t}:comment:1", "cheap world",
	    BAYES_FORGOTTEN, 0, 1);
	r = redisCommand(s->c, "HEXISTS {t}:bayes:tokens cheap");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	r = redisCommand(s->c, "HEXISTS {t}:comment:1 learned");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	learn(s, BAYES_LEARN_FORGET, "{t}:comment:1", "cheap world",
	    BAYES_NOT_LEARNED, 0, 1);

	/* A deleted comment is not brought back as a stub. */
	learn(s, BAYES_LEARN_SPAM, "{t}:comment:gone", "x1", BAYES_LEARNED, 1, 1);
	r = redisCommand(s->c, "EXISTS {t}:comment:gone");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
}

static void
test_noscript(void **state)
{
	struct server *s = server(state);
	struct bayes_counts c;
	struct bayes_token tc[1];
	struct store_cmd cmd;
	struct tokens t;
	const char *cause;
	redisReply *r;

	words(&t, "a");
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&s->st, &cmd, "0000000000000000000000000000000000000000", &t);
	r = redisCommandArgv(s->c, cmd.argc, cmd.argv, cmd.argvlen);
	assert_int_equal(bayes_store_fetch_reply(r, 1, &c, tc, &cause), -1);
	assert_non_null(strstr(cause, "NOSCRIPT"));
	freeReplyObject(r);
	bayes_store_cmd_to_eval(&cmd, BAYES_SCRIPT_FETCH);
	r = run(s, &cmd);
	assert_int_equal(bayes_store_fetch_reply(r, 1, &c, tc, &cause), 0);
	freeReplyObject(r);
	tokenize_free(&t);

	/* SCRIPT LOAD gives the SHA1 that EVALSHA then finds. */
	r = redisCommand(s->c, "SCRIPT LOAD %s", bayes_store_script_source(BAYES_SCRIPT_STATS));
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	store_cmd_init(&cmd);
	bayes_store_cmd_stats(&s->st, &cmd, r->str);
	freeReplyObject(r);
	r = run(s, &cmd);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	freeReplyObject(r);
}

/* Prune until the scan is through; the tokens removed. */
static unsigned long
prune(struct server *s, unsigned long max, unsigned long *left)
{
	struct bayes_prune_result pr;
	struct store_cmd cmd;
	char cursor[32] = "0";
	unsigned long removed = 0;
	const char *cause;
	redisReply *r;

	do {
		store_cmd_init(&cmd);
		bayes_store_cmd_prune(&s->st, &cmd, NULL, cursor, 2,
		    NOW_MS, 30, max);
		r = run(s, &cmd);
		if (bayes_store_prune_reply(r, &pr, &cause) != 0) {
			print_error("prune: %s\n", cause);
			fail();
		}
		freeReplyObject(r);
		removed += pr.removed;
		*left = pr.ntokens;
		memcpy(cursor, pr.cursor, sizeof cursor);
	} while (strcmp(cursor, "0") != 0);
	return removed;
}

static void
test_prune(void **state)
{
	struct server *s = server(state);
	unsigned long left;
	redisReply *r;

	/* Today is day 20000; 30 days back is 19970. */
	r = redisCommand(s->c, "HSET {t}:bayes:tokens old1 %s new1 %s old2 %s "
	    "new5 %s old5 %s old9 %s edge %s bad %s", "1 0 19000", "0 1 19999",
	    "1 1 19000", "3 2 20000", "3 2 19000", "5 4 19000", "1 0 19970", "x");
	assert_int_equal(r->integer, 8);
	freeReplyObject(r);

	/* Under the cap: hapaxes untrained for 30 days, and junk. */
	assert_int_equal(prune(s, 1000, &left), 3);
	assert_int_equal(left, 5);
	r = redisCommand(s->c, "HEXISTS {t}:bayes:tokens new1");
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);

	/* Over the cap: twice-seen tokens and old rare ones too. */
	assert_int_equal(prune(s, 2, &left), 3);
	assert_int_equal(left, 2);
	r = redisCommand(s->c, "HMGET {t}:bayes:tokens new5 old9");
	assert_string_equal(r->element[0]->str, "3 2 20000");
	assert_string_equal(r->element[1]->str, "5 4 19000");
	freeReplyObject(r);
}

/* Many tokens in one message: one argument, no limit hit. */
static void
test_big_message(void **state)
{
	struct server *s = server(state);
	struct bayes_token *tc;
	struct bayes_counts c;
	struct store_cmd cmd;
	struct tokens t;
	const char *cause;
	char w[16];
	redisReply *r;
	int i;

	tokenize_init(&t);
	for (i = 0; i < TOKENIZE_MAX; i++) {
		snprintf(w, sizeof w, "w%d", i);
		tokenize_add(&t, NULL, w, strlen(w));
	}
	store_cmd_init(&cmd);
	bayes_store_cmd_learn(&s->st, &cmd, NULL, BAYES_LEARN_SPAM, NULL, &t, NOW_MS);
	freeReplyObject(run(s, &cmd));
	tc = calloc(t.n, sizeof *tc);
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&s->st, &cmd, NULL, &t);
	r = run(s, &cmd);
	assert_int_equal(bayes_store_fetch_reply(r, t.n, &c, tc, &cause), 0);
	assert_int_equal(tc[0].spam, 1);
	assert_int_equal(tc[TOKENIZE_MAX - 1].spam, 1);
	freeReplyObject(r);
	free(tc);
	tokenize_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_fetch),
		cmocka_unit_test(test_relearn),
		cmocka_unit_test(test_noscript),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_big_message),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
