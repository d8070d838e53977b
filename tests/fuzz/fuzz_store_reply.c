/*
 * libFuzzer: a hostile or broken Redis.  The bytes go through hiredis's
 * reply reader, the way heinzeld and heinzelctl receive them, and every
 * reply that comes out is handed to each reply parser of store.c and
 * bayes_store.c.
 */
#include <stdbool.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "bayes.h"
#include "bayes_store.h"
#include "log.h"
#include "store.h"
#include "store_outbox.h"
#include "fuzz.h"

#define FUZZ_STORE_MAX_TOKENS	64

/* Arrays beyond this are refused before hiredis allocates them. */
#define FUZZ_STORE_MAX_ELEMENTS	4096

static redisReplyObjectFunctions fuzz_store_fn;
static void *(*fuzz_store_create_array)(const redisReadTask *, int);

/*
 * hiredis 0.14 allocates a multi-bulk header's count of pointers before a
 * single element has arrived ("*2000000000\r\n" asks for 16 GB): a known
 * property of the library (later versions add maxelements), not of the
 * parsers fuzzed here, so such arrays fail as out of memory.
 */
static void *
fuzz_store_array_cb(const redisReadTask *task, int elements)
{
	if (elements > FUZZ_STORE_MAX_ELEMENTS)
		return NULL;
	return fuzz_store_create_array(task, elements);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	redisReader *reader;

	(void)argc;
	(void)argv;
	log_init("fuzz_store_reply", LOG_LEVEL_ERROR, 0);
	reader = redisReaderCreate();
	FUZZ_CHECK(reader != NULL);
	fuzz_store_fn = *reader->fn;
	fuzz_store_create_array = fuzz_store_fn.createArray;
	fuzz_store_fn.createArray = fuzz_store_array_cb;
	redisReaderFree(reader);
	return 0;
}

static bool
fuzz_store_status(int s, bool unknown_ok)
{
	return (s >= 0 && s < STORE__NSTATUS) || (unknown_ok && s == -1);
}

/* The parsers of the comment scripts. */
static void
fuzz_store_comment_replies(const redisReply *r)
{
	struct store_submit_result sub;
	struct store_transition_result tr;
	struct store_depths d;
	const char *cause;
	long long v;

	cause = NULL;
	if (store_submit_reply(r, &sub, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	else {
		switch (sub.outcome) {
		case SUBMIT_STORED:
			FUZZ_CHECK(fuzz_store_status((int)sub.status, false));
			FUZZ_CHECK(store_id_valid(sub.id));
			break;
		case SUBMIT_EXISTING:
			FUZZ_CHECK(store_id_valid(sub.id));
			break;
		case SUBMIT_DUPLICATE:
			FUZZ_CHECK(store_id_valid(sub.id));
			break;
		case SUBMIT_RATE_LIMITED:
			FUZZ_CHECK(sub.retry_after >= 1);
			break;
		case SUBMIT_CAPTCHA_UNKNOWN:
		case SUBMIT_CAPTCHA_WRONG:
		case SUBMIT_CAPTCHA_TOO_FAST:
			break;
		default:
			FUZZ_CHECK(!"submit outcome in range");
		}
	}

	cause = NULL;
	if (store_transition_reply(r, &tr, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	else {
		FUZZ_CHECK(tr.outcome == TRANSITION_DONE ||
		    tr.outcome == TRANSITION_NOT_FOUND ||
		    tr.outcome == TRANSITION_CONFLICT ||
		    tr.outcome == TRANSITION_RETRY);
		FUZZ_CHECK(fuzz_store_status(tr.from, true));
		FUZZ_CHECK(fuzz_store_status(tr.to, true));
	}

	cause = NULL;
	if (store_depths_reply(r, &d, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	cause = NULL;
	if (store_purge_reply(r, &v, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	cause = NULL;
	if (store_integer_reply(r, &v, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
}

/* The parsers of the notification outbox. */
static void
fuzz_store_outbox_replies(const redisReply *r)
{
	struct store_outbox_entry *entries;
	struct store_fail_result fail;
	const char *cause, *next;
	uint64_t next_ms;
	long long moved;
	size_t i, n;

	cause = NULL;
	if (store_outbox_entries(r, &entries, &n, &next, &cause) != 0) {
		FUZZ_CHECK(cause != NULL && entries == NULL && next == NULL);
	} else {
		/* Every string borrowed from the reply is readable. */
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(entries[i].id != NULL);
			(void)strlen(entries[i].id);
			if (entries[i].event != NULL)
				(void)strlen(entries[i].event);
			if (entries[i].comment != NULL)
				(void)strlen(entries[i].comment);
			if (entries[i].nid != NULL)
				(void)strlen(entries[i].nid);
		}
		if (next != NULL)
			(void)strlen(next);
		free(entries);
	}

	cause = NULL;
	if (store_outbox_fail_reply(r, &fail, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	else
		FUZZ_CHECK(fail.outcome == FAIL_RETRY ||
		    fail.outcome == FAIL_DEAD || fail.outcome == FAIL_GONE);
	cause = NULL;
	if (store_outbox_due_reply(r, &moved, &next_ms, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
}

/* The parsers of the Bayes scripts. */
static void
fuzz_store_bayes_replies(const redisReply *r)
{
	struct bayes_token counts[FUZZ_STORE_MAX_TOKENS];
	struct bayes_counts c;
	struct bayes_learn_result learn;
	struct bayes_prune_result prune;
	struct bayes_stats stats;
	const char *cause;
	size_t ntokens = 1;

	/* As many tokens as the reply holds, so the good shape is reachable. */
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->elements - 2 <= FUZZ_STORE_MAX_TOKENS)
		ntokens = r->elements - 2;
	cause = NULL;
	if (bayes_store_fetch_reply(r, ntokens, &c, counts, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	cause = NULL;
	if (bayes_store_learn_reply(r, &learn, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	else
		FUZZ_CHECK(bayes_learn_outcome_name(learn.outcome) != NULL);
	cause = NULL;
	if (bayes_store_prune_reply(r, &prune, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	else {
		FUZZ_CHECK(memchr(prune.cursor, '\0', sizeof prune.cursor));
		FUZZ_CHECK(prune.cursor[0] != '\0');
	}
	cause = NULL;
	if (bayes_store_stats_reply(r, &stats, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
}

static void
fuzz_store_reply(const redisReply *r)
{
	fuzz_store_comment_replies(r);
	fuzz_store_outbox_replies(r);
	fuzz_store_bayes_replies(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	redisReader *reader;
	void *reply;
	size_t off, chunk;

	reader = redisReaderCreateWithFunctions(&fuzz_store_fn);
	FUZZ_CHECK(reader != NULL);
	/* In pieces, as replies arrive from a socket: 1 to 16 bytes a read. */
	chunk = len > 0 ? (size_t)(data[len - 1] & 0x0f) + 1 : 1;
	for (off = 0; off < len; off += chunk) {
		if (chunk > len - off)
			chunk = len - off;
		if (redisReaderFeed(reader, (const char *)data + off,
		    chunk) != REDIS_OK)
			break;
		for (;;) {
			reply = NULL;
			if (redisReaderGetReply(reader, &reply) != REDIS_OK)
				goto out;
			if (reply == NULL)
				break;
			fuzz_store_reply(reply);
			freeReplyObject(reply);
		}
	}
	/* The parsers' own NULL case: a reply that never came. */
	fuzz_store_reply(NULL);
out:
	redisReaderFree(reader);
	return 0;
}
