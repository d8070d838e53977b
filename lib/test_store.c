/* Unit tests of the Redis data model helpers that need no Redis. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comment.h"
#include "config.h"
#include "privacy.h"
#include "score.h"
#include "sentinel.h"
#include "sha1.h"
#include "store.h"
#include "store_outbox.h"
#include "xmalloc.h"

static void
test_addr_unix(void **state)
{
	struct store_addr a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_addr_parse("unix:/run/redis/redis.sock", &a, &cause), 0);
	assert_string_equal(a.path, "/run/redis/redis.sock");
	assert_null(a.host);
	assert_int_equal(a.db, 0);
	store_addr_free(&a);

	assert_int_equal(store_addr_parse("unix:/tmp/r.sock?db=3", &a, &cause), 0);
	assert_string_equal(a.path, "/tmp/r.sock");
	assert_int_equal(a.db, 3);
	store_addr_free(&a);

	assert_int_equal(store_addr_parse("/tmp/r.sock", &a, &cause), 0);
	assert_string_equal(a.path, "/tmp/r.sock");
	store_addr_free(&a);

	assert_int_equal(store_addr_parse("unix:relative.sock", &a, &cause), -1);
	assert_non_null(strstr(cause, "absolute"));
	free(cause);
	assert_int_equal(store_addr_parse("unix:/x?db=x", &a, &cause), -1);
	free(cause);
}

/* Messages never show the password, also when the address is malformed. */
static void
test_addr_redact(void **state)
{
	static const char *const bad[] = {
		"redis://:pa@ss@host:notaport/0", "redis://u:pa@ss@/0",
		"redis://:pa@ss@host:1/x",
	};
	struct store_addr a;
	char *cause, *s;
	size_t i;

	(void)state;
	s = store_addr_redact("redis://:pa@ss@host:6380/2");
	assert_string_equal(s, "redis://***@host:6380/2");
	free(s);
	s = store_addr_redact("redis://host:6380/2");
	assert_string_equal(s, "redis://host:6380/2");
	free(s);
	s = store_addr_redact("unix:/run/redis.sock");
	assert_string_equal(s, "unix:/run/redis.sock");
	free(s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(store_addr_parse(bad[i], &a, &cause), -1);
		assert_null(strstr(cause, "ss@"));
		assert_non_null(strstr(cause, "***@"));
		free(cause);
	}
}

static void
test_addr_tcp(void **state)
{
	struct store_addr a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_addr_parse("redis://127.0.0.1:6380/2", &a, &cause), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6380);
	assert_int_equal(a.db, 2);
	assert_null(a.password);
	store_addr_free(&a);

	assert_int_equal(store_addr_parse("redis://:s3cret@localhost", &a, &cause), 0);
	assert_string_equal(a.host, "localhost");
	assert_int_equal(a.port, 6379);
	assert_string_equal(a.password, "s3cret");
	store_addr_free(&a);

	assert_int_equal(store_addr_parse("redis://host:0", &a, &cause), -1);
	free(cause);
	assert_int_equal(store_addr_parse("redis://host:99999", &a, &cause), -1);
	free(cause);
	assert_int_equal(store_addr_parse("redis://", &a, &cause), -1);
	free(cause);
	assert_int_equal(store_addr_parse("http://host", &a, &cause), -1);
	free(cause);
	assert_int_equal(store_addr_parse("redis://host/abc", &a, &cause), -1);
	free(cause);
}

/* store_addr_config over a [redis] section of address, user, password_file. */
static int
addr_config(struct store_addr *a, const char *address, const char *user,
    const char *password_file, char **cause)
{
	struct config *cfg = config_new();
	char *errors = NULL, *text;
	int rc;

	xasprintf(&text, "[redis]\naddress = %s\nuser = %s\n"
	    "password_file = %s\n", address, user ? user : "",
	    password_file ? password_file : "");
	assert_int_equal(config_load_buffer(cfg, "t", text, strlen(text),
	    &errors), 0);
	rc = store_addr_config(a, cfg, cause);
	free(text);
	config_free(cfg);
	return rc;
}

static void
test_addr_auth(void **state)
{
	char path[] = "/tmp/heinzel-test-pass-XXXXXX";
	struct store_addr a;
	struct store_cmd cmd;
	char *cause = NULL;
	FILE *fp;
	int fd;

	(void)state;
	/* The address's own password: AUTH pass, or AUTH user pass. */
	assert_int_equal(addr_config(&a, "redis://:pw@h", "", "", &cause), 0);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), 0);
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.argv[1], "pw");
	store_cmd_free(&cmd);
	store_addr_free(&a);
	assert_int_equal(addr_config(&a, "redis://u:pw@h", NULL, NULL,
	    &cause), 0);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), 0);
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[1], "u");
	assert_string_equal(cmd.argv[2], "pw");
	store_cmd_free(&cmd);
	store_addr_free(&a);

	/* No password: no AUTH. */
	assert_int_equal(addr_config(&a, "unix:/r.sock", "", "", &cause), 0);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), 0);
	assert_int_equal(cmd.argc, 0);
	store_addr_free(&a);

	/* The file, read at each call: a new password shows at once. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs("first\n", fp);
	fclose(fp);
	assert_int_equal(addr_config(&a, "unix:/r.sock", "site1", path,
	    &cause), 0);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), 0);
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[1], "site1");
	assert_string_equal(cmd.argv[2], "first");
	store_cmd_free(&cmd);
	assert_non_null(fp = fopen(path, "w"));
	fputs("second\r\nignored\n", fp);
	fclose(fp);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), 0);
	assert_string_equal(cmd.argv[2], "second");
	store_cmd_free(&cmd);
	/* Empty, then gone: an error naming the file, never a password. */
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	unlink(path);
	assert_int_equal(store_addr_auth(&a, &cmd, &cause), -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	store_addr_free(&a);

	/* Contradictions and a user without a password. */
	assert_int_equal(addr_config(&a, "redis://:pw@h", "", "/f",
	    &cause), -1);
	free(cause);
	assert_int_equal(addr_config(&a, "redis://u:pw@h", "v", "",
	    &cause), -1);
	free(cause);
	assert_int_equal(addr_config(&a, "unix:/r.sock", "u", "",
	    &cause), -1);
	free(cause);
}

static void
test_addr_sentinels(void **state)
{
	static const char nomaster[] = "[redis]\nsentinels = 127.0.0.1:1\n";
	static const char ok[] = "[redis]\naddress = redis://h/3\n"
	    "sentinels = 127.0.0.1:1, [::1]:2\nmaster_name = m\n";
	struct config *cfg;
	struct store_addr a;
	char *cause = NULL, *errors = NULL;

	(void)state;
	assert_null(sentinel_check("10.0.0.1:26379"));
	assert_null(sentinel_check("[::1]:26379"));
	assert_non_null(sentinel_check("10.0.0.1"));
	assert_non_null(sentinel_check(":26379"));
	assert_non_null(sentinel_check("h:0"));
	assert_non_null(sentinel_check("h:70000"));
	assert_non_null(sentinel_check("[::1:2"));

	cfg = config_new();
	assert_int_equal(config_load_buffer(cfg, "t", nomaster,
	    strlen(nomaster), &errors), 0);
	assert_int_equal(store_addr_config(&a, cfg, &cause), -1);
	assert_non_null(strstr(cause, "master_name"));
	free(cause);
	config_free(cfg);

	cfg = config_new();
	assert_int_equal(config_load_buffer(cfg, "t", ok, strlen(ok),
	    &errors), 0);
	assert_int_equal(store_addr_config(&a, cfg, &cause), 0);
	config_free(cfg);
	assert_string_equal(a.sentinels[1], "[::1]:2");
	assert_null(a.sentinels[2]);
	assert_string_equal(a.master_name, "m");
	assert_int_equal(a.db, 3);
	/* Nobody listens there: the cause names each Sentinel asked. */
	assert_int_equal(sentinel_resolve(&a, 200, &cause), -1);
	assert_non_null(strstr(cause, "no Sentinel named the master m"));
	assert_non_null(strstr(cause, "127.0.0.1:1: "));
	assert_non_null(strstr(cause, "[::1]:2: "));
	assert_string_equal(a.host, "h");
	free(cause);
	store_addr_free(&a);
}

static void
test_ids(void **state)
{
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];

	(void)state;
	store_new_id(a, 1000);
	store_new_id(b, 2000);
	assert_true(store_id_valid(a));
	assert_true(store_id_valid(b));
	assert_int_equal(strlen(a), STORE_ID_LEN);
	assert_true(strcmp(a, b) < 0);	/* time-ordered */
	assert_memory_equal(a, "0000000003e8", 12);
	assert_false(store_id_valid("0123456789abcdef012"));
	assert_false(store_id_valid("0123456789abcdef01234"));
	assert_false(store_id_valid("0123456789ABCDEF0123"));
	assert_false(store_id_valid(""));
}

static void
test_keys(void **state)
{
	struct store st;
	char *k;

	(void)state;
	store_init(&st, "blog");
	k = store_key(&st, "comment", "abc");
	assert_string_equal(k, "{blog}:comment:abc");
	free(k);
	k = store_key(&st, "stats", NULL);
	assert_string_equal(k, "{blog}:stats");
	free(k);
	store_free(&st);
}

static void
sha1_check(const char *in, size_t len, const char *want)
{
	char hex[SHA1_HEX_LEN + 1];
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, in, len);
	sha1_hex(&s, hex);
	assert_string_equal(hex, want);
}

static void
test_sha1(void **state)
{
	char hex[SHA1_HEX_LEN + 1], *big;
	unsigned char mac[SHA1_LEN];
	struct sha1 s;
	size_t i;

	(void)state;
	/* FIPS 180 examples; 55, 56 and 64 bytes straddle the padding. */
	sha1_check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	big = xmalloc(1000000);
	memset(big, 'a', 1000000);
	sha1_check(big, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
	sha1_check(big, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
	/* Fed in pieces that do not line up with the blocks. */
	sha1_init(&s);
	for (i = 0; i < 1000000; i += 999)
		sha1_update(&s, big + i, i + 999 > 1000000 ? 1000000 - i : 999);
	sha1_hex(&s, hex);
	assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	/* RFC 2202 cases 1 and 6 (a key longer than a block). */
	memset(big, 0x0b, 20);
	sha1_hmac(big, 20, "Hi There", 8, mac);
	assert_memory_equal(mac, "\xb6\x17\x31\x86\x55\x05\x72\x64\xe2\x8b"
	    "\xc0\xb6\xfb\x37\x8c\x8e\xf1\x46\xbe\x00", SHA1_LEN);
	memset(big, 0xaa, 80);
	sha1_hmac(big, 80, "Test Using Larger Than Block-Size Key - Hash Key "
	    "First", 54, mac);
	assert_memory_equal(mac, "\xaa\x4a\xe5\xe1\x52\x72\xd0\x0e\x95\x70"
	    "\x56\x37\xce\x8a\x3b\x55\xed\x40\x21\x12", SHA1_LEN);
	free(big);
}

static void
test_statuses(void **state)
{
	(void)state;
	assert_string_equal(store_status_name(STORE_PENDING), "pending");
	assert_int_equal(store_status_parse("spam"), STORE_SPAM);
	assert_int_equal(store_status_parse("bogus"), -1);
}

/* Build a reply array of strings for the parsers. */
static redisReply *
reply_array(int n, ...)
{
	redisReply *r = calloc(1, sizeof *r);
	va_list ap;
	int i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n, sizeof *r->element);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		r->element[i] = calloc(1, sizeof **r->element);
		r->element[i]->type = REDIS_REPLY_STRING;
		r->element[i]->str = strdup(va_arg(ap, const char *));
		r->element[i]->len = strlen(r->element[i]->str);
	}
	va_end(ap);
	return r;
}

static void
reply_free(redisReply *r)
{
	size_t i;

	for (i = 0; i < r->elements; i++) {
		free(r->element[i]->str);
		free(r->element[i]);
	}
	free(r->element);
	free(r);
}

static void
test_submit_reply(void **state)
{
	struct store_submit_result res;
	const char *cause;
	redisReply *r;

	(void)state;
	r = reply_array(3, "stored", "0000000003e8aabbccdd", "pending");
	assert_int_equal(store_submit_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, SUBMIT_STORED);
	assert_string_equal(res.id, "0000000003e8aabbccdd");
	assert_int_equal(res.status, STORE_PENDING);
	reply_free(r);

	/* A repeated request_id names its comment; the status is read next. */
	r = reply_array(2, "existing", "0000000003e8aabbccdd");
	assert_int_equal(store_submit_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, SUBMIT_EXISTING);
	assert_string_equal(res.id, "0000000003e8aabbccdd");
	reply_free(r);
	r = reply_array(2, "existing", "0000000003e8aabbcc");
	assert_int_equal(store_submit_reply(r, &res, &cause), -1);
	reply_free(r);
	r = reply_array(3, "stored", "0000000003e8aabbccdd", "deleted");
	assert_int_equal(store_submit_reply(r, &res, &cause), -1);
	reply_free(r);

	r = reply_array(2, "captcha", "too_fast");
	assert_int_equal(store_submit_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, SUBMIT_CAPTCHA_TOO_FAST);
	reply_free(r);

	r = reply_array(2, "duplicate", "0000000003e8aabbccdd");
	assert_int_equal(store_submit_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, SUBMIT_DUPLICATE);
	reply_free(r);

	/* Hostile or broken replies are errors, never trusted. */
	r = reply_array(3, "stored", "../../etc", "pending");
	assert_int_equal(store_submit_reply(r, &res, &cause), -1);
	reply_free(r);
	r = reply_array(1, "what");
	assert_int_equal(store_submit_reply(r, &res, &cause), -1);
	reply_free(r);
	assert_int_equal(store_submit_reply(NULL, &res, &cause), -1);
}

static void
test_comment_status_reply(void **state)
{
	struct store_cmd cmd;
	enum store_status s;
	struct store st;
	redisReply r;
	const char *cause;

	(void)state;
	store_init(&st, "blog");
	store_cmd_init(&cmd);
	store_cmd_comment_status(&st, &cmd, "0000000003e8aabbccdd");
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[0], "HGET");
	assert_string_equal(cmd.argv[1], "{blog}:comment:0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[2], "status");
	store_cmd_free(&cmd);
	store_free(&st);

	memset(&r, 0, sizeof r);
	r.type = REDIS_REPLY_STRING;
	r.str = (char *)"approved";
	assert_int_equal(store_comment_status_reply(&r, &s, &cause), 0);
	assert_int_equal(s, STORE_APPROVED);
	/* Deleted since the first request: refused, not stored. */
	r.type = REDIS_REPLY_NIL;
	assert_int_equal(store_comment_status_reply(&r, &s, &cause), 0);
	assert_int_equal(s, STORE_REJECTED);
	r.type = REDIS_REPLY_STRING;
	r.str = (char *)"bogus";
	assert_int_equal(store_comment_status_reply(&r, &s, &cause), -1);
	assert_int_equal(store_comment_status_reply(NULL, &s, &cause), -1);
}

/* The names the scripts make with redis.sha1hex, made in C for KEYS. */
static void
test_email_keys(void **state)
{
	char key[STORE_KEY_MAX], known[SHA1_HEX_LEN + 1];
	struct comment c;
	struct store st;

	(void)state;
	store_init(&st, "heinzel");
	store_key_email(&st, "Reader@Example.ORG", 18, key, sizeof key);
	assert_string_equal(key,
	    "{heinzel}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	comment_init(&c);
	comment_set(&c, CF_EMAIL, "READER@example.org", 18);
	/* Only ASCII is folded, as string.lower in Redis's C locale. */
	comment_set(&c, CF_AUTHOR, "Anna M\xc3\x9cller", 12);
	store_known_author(&c, known);
	assert_string_equal(known, "380b2c2c9cbff02a20120f5e51ea65d40bb06776");
	comment_free(&c);
	store_free(&st);
}

/* The depths script's reply: 4 queues, oldest, outbox 3, rulestats. */
static void
test_depths_reply(void **state)
{
	struct store_depths d;
	const char *cause;
	redisReply *r, *rs;
	size_t i;

	(void)state;
	r = reply_array(9, "", "", "", "", "", "", "", "", "");
	for (i = 0; i < 8; i++) {
		r->element[i]->type = REDIS_REPLY_INTEGER;
		r->element[i]->integer = (long long)i + 1;
	}
	rs = reply_array(2, "published X", "3");
	free(r->element[8]->str);
	free(r->element[8]);
	r->element[8] = rs;
	assert_int_equal(store_depths_reply(r, &d, &cause), 0);
	assert_int_equal(d.count[STORE_PENDING], 1);
	assert_int_equal(d.oldest_pending_ms, 5);
	assert_int_equal(d.outbox, 6);
	assert_int_equal(d.outbox_retry, 7);
	assert_int_equal(d.outbox_dead, 8);
	assert_ptr_equal(d.rulestats, rs);
	r->element[8] = calloc(1, sizeof *r->element[8]);
	r->element[8]->type = REDIS_REPLY_INTEGER;
	assert_int_equal(store_depths_reply(r, &d, &cause), -1);
	reply_free(rs);
	free(r->element[8]);
	r->elements = 8;
	assert_int_equal(store_depths_reply(r, &d, &cause), 0);
	assert_int_equal(d.outbox_dead, 8);
	assert_null(d.rulestats);
	reply_free(r);
}

static void
test_transition_reply(void **state)
{
	struct store_transition_result res;
	const char *cause;
	redisReply *r;

	(void)state;
	r = reply_array(3, "done", "pending", "approved");
	assert_int_equal(store_transition_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, TRANSITION_DONE);
	assert_int_equal(res.from, STORE_PENDING);
	assert_int_equal(res.to, STORE_APPROVED);
	reply_free(r);

	r = reply_array(3, "done", "spam", "");
	assert_int_equal(store_transition_reply(r, &res, &cause), 0);
	assert_int_equal(res.to, -1);
	reply_free(r);

	r = reply_array(2, "conflict", "approved");
	assert_int_equal(store_transition_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, TRANSITION_CONFLICT);
	assert_int_equal(res.from, STORE_APPROVED);
	reply_free(r);

	r = reply_array(1, "not_found");
	assert_int_equal(store_transition_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, TRANSITION_NOT_FOUND);
	reply_free(r);

	r = reply_array(1, "retry");
	assert_int_equal(store_transition_reply(r, &res, &cause), 0);
	assert_int_equal(res.outcome, TRANSITION_RETRY);
	reply_free(r);
}

/* Whether the transition command names key among its KEYS. */
static bool
transition_has_key(const struct store_cmd *cmd, const char *key)
{
	int i, nkeys = atoi(cmd->argv[2]);

	for (i = 3; i < 3 + nkeys; i++)
		if (strcmp(cmd->argv[i], key) == 0)
			return true;
	return false;
}

/* The keys the comment's post, e-mail and counted day need are in KEYS. */
static void
test_transition_keys(void **state)
{
	struct store_thresholds th = { 5, 10 };
	struct store_cmd cmd;
	struct store st;
	redisReply *seen;
	uint64_t now = UINT64_C(20001) * 86400000 + 5;

	(void)state;
	store_init(&st, "t");
	seen = reply_array(3, "hello-world", "Reader@Example.ORG",
	    "published 20000 5 10");
	store_cmd_init(&cmd);
	store_cmd_transition_from(&st, &cmd, NULL, "0000000003e8aabbccdd", seen,
	    ACTION_SPAM, 0, &th, "admin", now);
	assert_string_equal(cmd.argv[2], "15");
	assert_string_equal(cmd.argv[3], "{t}:comment:0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[4], "{t}:stats");
	assert_true(transition_has_key(&cmd, "{t}:post:hello-world"));
	assert_true(transition_has_key(&cmd, "{t}:published:hello-world"));
	assert_true(transition_has_key(&cmd,
	    "{t}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747"));
	assert_true(transition_has_key(&cmd, "{t}:rulestats:20000"));
	assert_true(transition_has_key(&cmd, "{t}:rulestats:20001"));
	assert_true(transition_has_key(&cmd, "{t}:queue:rejected"));
	store_cmd_free(&cmd);
	reply_free(seen);

	/* Nothing read (a comment without them, or gone): the fixed keys. */
	store_cmd_init(&cmd);
	store_cmd_transition_from(&st, &cmd, NULL, "0000000003e8aabbccdd", NULL,
	    ACTION_DELETE, 0, &th, "admin", now);
	assert_string_equal(cmd.argv[2], "11");
	assert_false(transition_has_key(&cmd, "{t}:rulestats:20000"));
	store_cmd_free(&cmd);
	store_free(&st);
}

/* A notification's keys: the hash, privacy:notes, its address's index. */
static void
test_outbox_note_keys(void **state)
{
	static const char *const nids[] = { "7", "12" };
	struct store_cmd cmd;
	struct store st;
	redisReply *seen;

	(void)state;
	store_init(&st, "t");
	/* The address: email if set, else to for the author's own kinds. */
	assert_string_equal(store_note_address("admin", "a@example.org",
	    "Reader@Example.ORG"), "Reader@Example.ORG");
	assert_string_equal(store_note_address("received",
	    "Reader@Example.ORG", ""), "Reader@Example.ORG");
	assert_string_equal(store_note_address("published",
	    "Reader@Example.ORG", NULL), "Reader@Example.ORG");
	assert_null(store_note_address("admin", "a@example.org", ""));
	assert_null(store_note_address("pending", "", NULL));
	assert_null(store_note_address(NULL, NULL, NULL));

	store_cmd_init(&cmd);
	store_cmd_outbox_done(&st, &cmd, NULL, "1-0", "7",
	    "Reader@Example.ORG", "mail");
	assert_string_equal(cmd.argv[2], "5");
	assert_string_equal(cmd.argv[3], "{t}:outbox");
	assert_string_equal(cmd.argv[4], "{t}:stats");
	assert_string_equal(cmd.argv[5], "{t}:notification:7");
	assert_string_equal(cmd.argv[6], "{t}:privacy:notes");
	assert_string_equal(cmd.argv[7],
	    "{t}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[8], STORE_OUTBOX_GROUP);
	store_cmd_free(&cmd);
	/* No address: no index; no notification (an event): the stream. */
	store_cmd_init(&cmd);
	store_cmd_outbox_done(&st, &cmd, NULL, "1-0", "7", NULL, "webhook");
	assert_string_equal(cmd.argv[2], "4");
	assert_string_equal(cmd.argv[7], STORE_OUTBOX_GROUP);
	store_cmd_free(&cmd);
	store_cmd_init(&cmd);
	store_cmd_outbox_done(&st, &cmd, NULL, "1-0", NULL, NULL, NULL);
	assert_string_equal(cmd.argv[2], "2");
	assert_string_equal(cmd.argv[5], STORE_OUTBOX_GROUP);
	store_cmd_free(&cmd);

	/* A drop names what store_cmd_note_read found. */
	store_cmd_init(&cmd);
	store_cmd_note_read(&st, &cmd, "7");
	assert_int_equal(cmd.argc, 5);
	assert_string_equal(cmd.argv[1], "{t}:notification:7");
	store_cmd_free(&cmd);
	seen = reply_array(3, "received", "Reader@Example.ORG", "");
	store_cmd_init(&cmd);
	store_cmd_outbox_drop(&st, &cmd, NULL, "7",
	    store_note_read_address(seen));
	assert_string_equal(cmd.argv[2], "5");
	assert_string_equal(cmd.argv[3], "{t}:outbox:retry");
	assert_string_equal(cmd.argv[4], "{t}:outbox:dead");
	assert_string_equal(cmd.argv[5], "{t}:notification:7");
	assert_string_equal(cmd.argv[6], "{t}:privacy:notes");
	assert_string_equal(cmd.argv[7],
	    "{t}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[9], "7");
	store_cmd_free(&cmd);
	reply_free(seen);
	assert_null(store_note_read_address(NULL));

	/* A requeue names each notification's key, its nid in ARGV. */
	store_cmd_init(&cmd);
	store_cmd_outbox_requeue(&st, &cmd, NULL, nids, 2);
	assert_int_equal(cmd.argc, 10);
	assert_string_equal(cmd.argv[2], "5");
	assert_string_equal(cmd.argv[5], "{t}:outbox:dead");
	assert_string_equal(cmd.argv[6], "{t}:notification:7");
	assert_string_equal(cmd.argv[7], "{t}:notification:12");
	assert_string_equal(cmd.argv[8], "7");
	assert_string_equal(cmd.argv[9], "12");
	store_cmd_free(&cmd);
	store_free(&st);
}

/* The page's ids a need reply names become the comments' keys. */
static void
test_published_need(void **state)
{
	struct store_cmd cmd;
	struct store st;
	redisReply *r;

	(void)state;
	store_init(&st, "t");
	store_cmd_init(&cmd);
	store_cmd_published(&st, &cmd, NULL, "hello-world", 5, NULL, NULL);
	assert_string_equal(cmd.argv[2], "1");
	assert_string_equal(cmd.argv[3], "{t}:published:hello-world");
	assert_string_equal(cmd.argv[4], "5");
	assert_string_equal(cmd.argv[5], "{t}:");
	assert_string_equal(cmd.argv[6], "");
	store_cmd_free(&cmd);

	r = reply_array(3, "need", "0000000003e8aabbccdd", "0000000003e9aabbccdd");
	assert_true(store_published_need(r));
	store_cmd_init(&cmd);
	store_cmd_published(&st, &cmd, NULL, "hello-world", 5,
	    "0000000003e7aabbccdd", r);
	assert_int_equal(cmd.argc, 3 + 3 + 3);
	assert_string_equal(cmd.argv[2], "3");
	assert_string_equal(cmd.argv[3], "{t}:published:hello-world");
	assert_string_equal(cmd.argv[4], "{t}:comment:0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[5], "{t}:comment:0000000003e9aabbccdd");
	assert_string_equal(cmd.argv[8], "0000000003e7aabbccdd");
	store_cmd_free(&cmd);
	reply_free(r);

	/* A page, an empty one, or a need with a malformed id is not one. */
	r = reply_array(0);
	assert_false(store_published_need(r));
	reply_free(r);
	r = reply_array(2, "need", "../x");
	assert_false(store_published_need(r));
	reply_free(r);
	assert_false(store_published_need(NULL));
	store_free(&st);
}

/* The keys a need reply names follow the purge's three. */
static void
test_purge_need(void **state)
{
	struct store_cmd cmd;
	struct store st;
	redisReply *r;

	(void)state;
	store_init(&st, "t");
	store_cmd_init(&cmd);
	store_cmd_purge(&st, &cmd, NULL, 1000, 50, NULL);
	assert_int_equal(cmd.argc, 3 + 3 + 3);
	assert_string_equal(cmd.argv[2], "3");
	assert_string_equal(cmd.argv[3], "{t}:queue:spam");
	assert_string_equal(cmd.argv[4], "{t}:stats");
	assert_string_equal(cmd.argv[5], "{t}:privacy:refused");
	assert_string_equal(cmd.argv[6], "1000");
	assert_string_equal(cmd.argv[8], "{t}:");
	store_cmd_free(&cmd);

	r = reply_array(3, "need", "{t}:comment:0000000003e8aabbccdd",
	    "{t}:post:hello-world");
	assert_true(store_need_reply(&st, r));
	store_cmd_init(&cmd);
	store_cmd_purge(&st, &cmd, NULL, 1000, 50, r);
	assert_string_equal(cmd.argv[2], "5");
	assert_string_equal(cmd.argv[6], "{t}:comment:0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[7], "{t}:post:hello-world");
	assert_string_equal(cmd.argv[8], "1000");
	store_cmd_free(&cmd);
	reply_free(r);

	/* Only keys of this site; a count is no need. */
	r = reply_array(2, "need", "{u}:comment:0000000003e8aabbccdd");
	assert_false(store_need_reply(&st, r));
	reply_free(r);
	r = reply_array(2, "need", "{t}");
	assert_false(store_need_reply(&st, r));
	reply_free(r);
	r = reply_array(1, "need");
	assert_false(store_need_reply(&st, r));
	reply_free(r);
	assert_false(store_need_reply(&st, NULL));
	store_free(&st);
}

/*
 * The subject script's fixed keys are named from the address; the keys a
 * need reply names are kept for the next command, after the hashed ones.
 */
static void
test_privacy_subject_need(void **state)
{
	char dup[] = "{t}:dup:0123456789abcdef";
	char *hashed[] = { dup };
	struct privacy_read p;
	struct store_cmd cmd;
	struct store st;
	redisReply *r;

	(void)state;
	store_init(&st, "t");
	memset(&p, 0, sizeof p);
	store_cmd_init(&cmd);
	privacy_cmd_subject(&st, &cmd, NULL, PRIVACY_ERASE, "Reader@Example.ORG",
	    NULL, NULL, 0, p.need, p.nneed);
	assert_int_equal(cmd.argc, 3 + 8 + 5);
	assert_string_equal(cmd.argv[2], "8");
	assert_string_equal(cmd.argv[3], "{t}:stats");
	assert_string_equal(cmd.argv[4],
	    "{t}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[5],
	    "{t}:receipt:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[10], "{t}:privacy:notes");
	assert_string_equal(cmd.argv[11], "{t}:");
	assert_string_equal(cmd.argv[14], "*");
	assert_string_equal(cmd.argv[15], "0");
	store_cmd_free(&cmd);

	r = reply_array(3, "need", "{t}:comment:0000000003e8aabbccdd",
	    "{t}:queue:spam");
	assert_int_equal(privacy_read_need(&st, r, &p), 1);
	reply_free(r);
	assert_int_equal(p.nneed, 2);
	store_cmd_init(&cmd);
	privacy_cmd_subject(&st, &cmd, NULL, PRIVACY_EXPORT, "Reader@Example.ORG",
	    "0000000003e8aabbccdd", hashed, 1, p.need, p.nneed);
	assert_string_equal(cmd.argv[2], "11");
	assert_string_equal(cmd.argv[11], "{t}:dup:0123456789abcdef");
	assert_string_equal(cmd.argv[12], "{t}:comment:0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[13], "{t}:queue:spam");
	assert_string_equal(cmd.argv[17], "0000000003e8aabbccdd");
	assert_string_equal(cmd.argv[18], "1");
	store_cmd_free(&cmd);

	/* An export is no need; a run that wants keys is a changed address. */
	r = reply_array(1, "changed");
	assert_int_equal(privacy_read_need(&st, r, &p), 0);
	reply_free(r);
	assert_int_equal(p.nneed, 2);
	privacy_read_free(&p);
	store_free(&st);
}

static void
test_cmd(void **state)
{
	struct store_cmd cmd;

	(void)state;
	store_cmd_init(&cmd);
	store_cmd_add(&cmd, "EVALSHA", 7);
	store_cmd_add(&cmd, "0123", 4);
	store_cmd_addf(&cmd, "%d", 1);
	store_cmd_to_eval(&cmd, STORE_SCRIPT_PUBLISHED);
	assert_string_equal(cmd.argv[0], "EVAL");
	assert_string_equal(cmd.argv[1], store_script_source(STORE_SCRIPT_PUBLISHED));
	assert_int_equal(cmd.argvlen[1], strlen(cmd.argv[1]));
	assert_string_equal(cmd.argv[2], "1");
	store_cmd_free(&cmd);
	assert_int_equal(cmd.argc, 0);
}

/*
 * A submission with every field set, many rule hits and many admins:
 * commands grow as needed (a fixed bound once stopped the daemon on an
 * ordinary request with all eleven stored fields).
 */
static void
test_cmd_every_field(void **state)
{
	struct store st;
	struct store_cmd cmd;
	struct store_submit sub;
	struct store_outbox_entry e;
	struct store_notify nt;
	struct comment c;
	struct score sc;
	char name[32], *admins[201];
	int f, i, nfields = 0;

	(void)state;
	store_init(&st, "heinzel");
	comment_init(&c);
	for (f = 0; f < CF__COUNT; f++)
		comment_set(&c, (enum comment_field)f, "x", 1);
	score_init(&sc);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "RULE_%d", i);
		score_add(&sc, name, 0.5, 1);
	}
	memset(&sub, 0, sizeof sub);
	sub.comment = &c;
	sub.score = &sc;
	sub.id = "0193a1b2c3d4e5f60718";
	sub.status = STORE_PENDING;
	store_cmd_init(&cmd);
	store_cmd_submit(&st, &cmd, NULL, &sub);
	for (i = 0; i < cmd.argc; i++) {
		assert_non_null(cmd.argv[i]);
		assert_int_equal(cmd.argvlen[i], strlen(cmd.argv[i]));
		if (strcmp(cmd.argv[i], "request_id") == 0 ||
		    strcmp(cmd.argv[i], "referrer") == 0 ||
		    strcmp(cmd.argv[i], "user_agent") == 0)
			nfields++;
	}
	assert_true(cmd.argc > 64);
	assert_int_equal(nfields, 3);
	/* status last: the script promotes a known author by replacing it */
	assert_string_equal(cmd.argv[cmd.argc - 2], "status");
	assert_string_equal(cmd.argv[cmd.argc - 1], "pending");
	assert_string_equal(cmd.argv[2], "16");	/* every key in KEYS */
	store_cmd_free(&cmd);
	assert_int_equal(cmd.argc, 0);

	/* Every admin address reaches the command, none cut off. */
	for (i = 0; i < 200; i++)
		assert_true(asprintf(&admins[i], "admin%d@example.org", i) > 0);
	admins[200] = NULL;
	memset(&e, 0, sizeof e);
	e.id = "1-0";
	memset(&nt, 0, sizeof nt);
	nt.admin = admins;
	store_cmd_init(&cmd);
	store_cmd_outbox_expand(&st, &cmd, NULL, &e, &nt, "Reader@Example.ORG",
	    "41", 1);
	assert_string_equal(cmd.argv[cmd.argc - 1], admins[199]);
	/* Every key in KEYS: the address's, one notification per admin + 2. */
	assert_string_equal(cmd.argv[2], "209");
	assert_string_equal(cmd.argv[7], "{heinzel}:privacy:notes");
	assert_string_equal(cmd.argv[8],
	    "{heinzel}:email:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[9],
	    "{heinzel}:receipt:9a9edaa8fb9c4f9fe53bdd0a64e7b773caf32747");
	assert_string_equal(cmd.argv[10], "{heinzel}:notification:42");
	assert_string_equal(cmd.argv[3 + 208], "{heinzel}:notification:243");
	assert_string_equal(cmd.argv[cmd.argc - 201], "41");
	store_cmd_free(&cmd);
	/* No address, no counter yet: the notifications from 1. */
	store_cmd_init(&cmd);
	store_cmd_outbox_expand(&st, &cmd, NULL, &e, &nt, "", NULL, 1);
	assert_string_equal(cmd.argv[2], "207");
	assert_string_equal(cmd.argv[8], "{heinzel}:notification:1");
	assert_string_equal(cmd.argv[cmd.argc - 201], "");
	store_cmd_free(&cmd);
	for (i = 0; i < 200; i++)
		free(admins[i]);

	score_free(&sc);
	comment_free(&c);
	store_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_unix),
		cmocka_unit_test(test_addr_tcp),
		cmocka_unit_test(test_addr_auth),
		cmocka_unit_test(test_addr_sentinels),
		cmocka_unit_test(test_addr_redact),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_submit_reply),
		cmocka_unit_test(test_comment_status_reply),
		cmocka_unit_test(test_email_keys),
		cmocka_unit_test(test_transition_reply),
		cmocka_unit_test(test_transition_keys),
		cmocka_unit_test(test_outbox_note_keys),
		cmocka_unit_test(test_published_need),
		cmocka_unit_test(test_purge_need),
		cmocka_unit_test(test_privacy_subject_need),
		cmocka_unit_test(test_depths_reply),
		cmocka_unit_test(test_cmd),
		cmocka_unit_test(test_cmd_every_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
