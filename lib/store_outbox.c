/*
 * The notification outbox in Redis: the stream {P}:outbox and its
 * consumer group, the notifications, their retry schedule and dead
 * letters (store_outbox.h).  The scripts are lib/lua/outbox_*.lua.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha1.h"
#include "store_outbox.h"
#include "xmalloc.h"

void
store_cmd_outbox_group(const struct store *st, struct store_cmd *cmd)
{
	store_cmd_adds(cmd, "XGROUP");
	store_cmd_adds(cmd, "CREATE");
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, "0");
	store_cmd_adds(cmd, "MKSTREAM");
}

void
store_cmd_outbox_read(const struct store *st, struct store_cmd *cmd,
    const char *consumer, unsigned int count, const char *id)
{
	store_cmd_adds(cmd, "XREADGROUP");
	store_cmd_adds(cmd, "GROUP");
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, consumer);
	store_cmd_adds(cmd, "COUNT");
	store_cmd_addf(cmd, "%u", count);
	store_cmd_adds(cmd, "STREAMS");
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_adds(cmd, id);
}

void
store_cmd_outbox_claim(const struct store *st, struct store_cmd *cmd,
    const char *consumer, uint64_t min_idle_ms, const char *start,
    unsigned int count)
{
	store_cmd_adds(cmd, "XAUTOCLAIM");
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, consumer);
	store_cmd_addf(cmd, "%" PRIu64, min_idle_ms);
	store_cmd_adds(cmd, start);
	store_cmd_adds(cmd, "COUNT");
	store_cmd_addf(cmd, "%u", count);
}

/* One [id, [field, value, ...]] of a stream reply; fields nil if deleted. */
static int
store_outbox_entry(const redisReply *r, struct store_outbox_entry *e)
{
	const redisReply *f;
	size_t i;

	memset(e, 0, sizeof *e);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return -1;
	e->id = r->element[0]->str;
	f = r->element[1];
	if (f->type == REDIS_REPLY_NIL)
		return 0;
	if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0)
		return -1;
	for (i = 0; i < f->elements; i += 2) {
		if (f->element[i]->type != REDIS_REPLY_STRING ||
		    f->element[i + 1]->type != REDIS_REPLY_STRING)
			return -1;
		if (strcmp(f->element[i]->str, "event") == 0)
			e->event = f->element[i + 1]->str;
		else if (strcmp(f->element[i]->str, "id") == 0)
			e->comment = f->element[i + 1]->str;
		else if (strcmp(f->element[i]->str, "n") == 0)
			e->nid = f->element[i + 1]->str;
	}
	return 0;
}

int
store_outbox_entries(const redisReply *r, struct store_outbox_entry **entries,
    size_t *n, const char **next, const char **cause)
{
	const redisReply *list;
	size_t i;

	*entries = NULL;
	*n = 0;
	*next = NULL;
	if (r == NULL) {
		*cause = "no reply";
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = r->str;
		return -1;
	}
	if (r->type == REDIS_REPLY_NIL)
		return 0;	/* XREADGROUP: nothing new */
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		goto bad;
	if (r->element[0]->type == REDIS_REPLY_STRING) {
		/* XAUTOCLAIM: cursor, entries[, deleted ids] */
		if (r->elements < 2)
			goto bad;
		*next = r->element[0]->str;
		list = r->element[1];
	} else {
		/* XREADGROUP: [[stream, entries]] */
		if (r->element[0]->type != REDIS_REPLY_ARRAY ||
		    r->element[0]->elements != 2)
			goto bad;
		list = r->element[0]->element[1];
	}
	if (list->type == REDIS_REPLY_NIL)
		return 0;
	if (list->type != REDIS_REPLY_ARRAY)
		goto bad;
	*entries = xcalloc(list->elements + 1, sizeof **entries);
	for (i = 0; i < list->elements; i++)
		if (store_outbox_entry(list->element[i], &(*entries)[i]) != 0) {
			free(*entries);
			*entries = NULL;
			goto bad;
		}
	*n = list->elements;
	return 0;
bad:
	*next = NULL;
	*cause = "unexpected reply reading the outbox";
	return -1;
}

bool
store_notify_makes(const struct store_notify *nt, const char *event)
{
	if (nt->webhook)
		return strcmp(event, "pending") == 0 ||
		    strcmp(event, "approved") == 0;
	if (strcmp(event, "pending") == 0)
		return nt->on_receipt || (nt->admin != NULL &&
		    nt->admin[0] != NULL);
	if (strcmp(event, "approved") == 0)
		return nt->on_approve;
	return false;
}

void
store_cmd_outbox_ack(const struct store *st, struct store_cmd *cmd,
    const char *const *ids, size_t n)
{
	size_t i;

	store_cmd_adds(cmd, "XACK");
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	for (i = 0; i < n; i++)
		store_cmd_adds(cmd, ids[i]);
}

void
store_cmd_outbox_trim(const struct store *st, struct store_cmd *cmd,
    const char *sha)
{
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_TRIM, sha, 1);
	store_cmd_key(cmd, st, "outbox", NULL);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
}

void
store_cmd_outbox_expand_read(const struct store *st, struct store_cmd *cmd,
    const char *comment_id)
{
	store_cmd_hmget(cmd, st, "comment", comment_id, "email", NULL);
}

void
store_cmd_outbox_seq(const struct store *st, struct store_cmd *cmd)
{
	store_cmd_adds(cmd, "GET");
	store_cmd_key(cmd, st, "outbox:seq", NULL);
}

void
store_cmd_outbox_expand(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct store_outbox_entry *e,
    const struct store_notify *nt, const char *email, const char *seq,
    uint64_t now_ms)
{
	char key[STORE_KEY_MAX], nid[24];
	unsigned long long next;
	size_t i, nadmin = 0, hex;

	if (email != NULL && email[0] == '\0')
		email = NULL;
	next = seq != NULL ? strtoull(seq, NULL, 10) : 0;
	while (nt->admin != NULL && nt->admin[nadmin] != NULL)
		nadmin++;
	/* One per admin, a receipt or a published mail, a webhook. */
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_EXPAND, sha,
	    5 + (email != NULL ? 2 : 0) + (int)nadmin + 2);
	store_cmd_key(cmd, st, "outbox", NULL);
	store_cmd_key(cmd, st, "outbox:seq", NULL);
	store_cmd_key(cmd, st, "queue:pending", NULL);
	store_cmd_key(cmd, st, "comment", e->comment != NULL ? e->comment : "");
	store_cmd_key(cmd, st, "privacy:notes", NULL);
	if (email != NULL) {
		/* Both are named by the address's SHA1. */
		store_key_email(st, email, strlen(email), key, sizeof key);
		store_cmd_adds(cmd, key);
		hex = strlen(key) - SHA1_HEX_LEN;
		store_cmd_key(cmd, st, "receipt", key + hex);
	}
	for (i = 0; i < nadmin + 2; i++) {
		snprintf(nid, sizeof nid, "%llu", next + 1 + i);
		store_cmd_key(cmd, st, "notification", nid);
	}
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, e->id);
	store_cmd_adds(cmd, e->event != NULL ? e->event : "");
	store_cmd_adds(cmd, e->comment != NULL ? e->comment : "");
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_addf(cmd, "%" PRIu64, now_ms);
	store_cmd_adds(cmd, nt->on_receipt ? "1" : "0");
	store_cmd_adds(cmd, nt->on_approve ? "1" : "0");
	store_cmd_adds(cmd, nt->webhook ? "1" : "0");
	store_cmd_adds(cmd, nt->lang != NULL ? nt->lang : "en");
	store_cmd_addf(cmd, "%u", nt->receipt_interval);
	store_cmd_adds(cmd, seq != NULL ? seq : "");
	for (i = 0; i < nadmin; i++)
		store_cmd_adds(cmd, nt->admin[i]);
}

void
store_cmd_notification(const struct store *st, struct store_cmd *cmd,
    const char *nid)
{
	store_cmd_adds(cmd, "HGETALL");
	store_cmd_addf(cmd, "%s:notification:%s", st->tag, nid);
}

const char *
store_note_address(const char *kind, const char *to, const char *email)
{
	if (email != NULL && email[0] != '\0')
		return email;
	if (kind != NULL && to != NULL && to[0] != '\0' &&
	    (strcmp(kind, "received") == 0 || strcmp(kind, "published") == 0))
		return to;
	return NULL;
}

void
store_cmd_note_read(const struct store *st, struct store_cmd *cmd,
    const char *nid)
{
	store_cmd_hmget(cmd, st, "notification", nid, "kind", "to", "email",
	    NULL);
}

const char *
store_note_read_address(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return NULL;
	return store_note_address(store_reply_str(r, 0),
	    store_reply_str(r, 1), store_reply_str(r, 2));
}

/* The keys forget_note touches for nid, whose address is address. */
static void
store_cmd_note_keys(struct store_cmd *cmd, const struct store *st,
    const char *nid, const char *address)
{
	char key[STORE_KEY_MAX];

	store_cmd_key(cmd, st, "notification", nid);
	store_cmd_key(cmd, st, "privacy:notes", NULL);
	if (address != NULL) {
		store_key_email(st, address, strlen(address), key, sizeof key);
		store_cmd_adds(cmd, key);
	}
}

void
store_cmd_outbox_done(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *entry_id, const char *nid,
    const char *address, const char *channel)
{
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_DONE, sha,
	    nid == NULL ? 2 : address == NULL ? 4 : 5);
	store_cmd_key(cmd, st, "outbox", NULL);
	store_cmd_key(cmd, st, "stats", NULL);
	if (nid != NULL)
		store_cmd_note_keys(cmd, st, nid, address);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, entry_id);
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_adds(cmd, nid != NULL ? nid : "");
	store_cmd_adds(cmd, channel != NULL ? channel : "");
}

void
store_cmd_outbox_fail(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *entry_id, const char *nid,
    const char *channel, const char *reason, bool permanent,
    const struct store_retry *rt, uint64_t now_ms)
{
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_FAIL, sha, 5);
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_addf(cmd, "%s:outbox:retry", st->tag);
	store_cmd_addf(cmd, "%s:outbox:dead", st->tag);
	store_cmd_addf(cmd, "%s:stats", st->tag);
	store_cmd_addf(cmd, "%s:notification:%s", st->tag, nid);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
	store_cmd_adds(cmd, entry_id);
	store_cmd_adds(cmd, nid);
	store_cmd_adds(cmd, channel);
	store_cmd_adds(cmd, reason);
	store_cmd_adds(cmd, permanent ? "1" : "0");
	store_cmd_addf(cmd, "%" PRIu64, now_ms);
	store_cmd_addf(cmd, "%u", rt->max_tries);
	store_cmd_addf(cmd, "%" PRIu64, rt->base_ms);
	store_cmd_addf(cmd, "%" PRIu64, rt->max_ms);
}

int
store_outbox_fail_reply(const redisReply *r, struct store_fail_result *res,
    const char **cause)
{
	const char *kind;

	memset(res, 0, sizeof *res);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    (kind = store_reply_str(r, 0)) == NULL ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[2]->type != REDIS_REPLY_INTEGER) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to the outbox fail script";
		return -1;
	}
	if (strcmp(kind, "retry") == 0)
		res->outcome = FAIL_RETRY;
	else if (strcmp(kind, "dead") == 0)
		res->outcome = FAIL_DEAD;
	else
		res->outcome = FAIL_GONE;
	res->attempts = r->element[1]->integer;
	res->due_ms = r->element[2]->integer > 0 ?
	    (uint64_t)r->element[2]->integer : 0;
	return 0;
}

void
store_cmd_outbox_due(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t now_ms, unsigned int limit)
{
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_DUE, sha, 2);
	store_cmd_addf(cmd, "%s:outbox:retry", st->tag);
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_addf(cmd, "%" PRIu64, now_ms);
	store_cmd_addf(cmd, "%u", limit);
}

int
store_outbox_due_reply(const redisReply *r, long long *moved,
    uint64_t *next_ms, const char **cause)
{
	*moved = 0;
	*next_ms = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to the outbox due script";
		return -1;
	}
	*moved = r->element[0]->integer;
	if (r->element[1]->integer > 0)
		*next_ms = (uint64_t)r->element[1]->integer;
	return 0;
}

void
store_cmd_outbox_requeue(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *const *nids, size_t n)
{
	size_t i;

	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_REQUEUE, sha, 3 + (int)n);
	store_cmd_key(cmd, st, "outbox", NULL);
	store_cmd_key(cmd, st, "outbox:retry", NULL);
	store_cmd_key(cmd, st, "outbox:dead", NULL);
	for (i = 0; i < n; i++)
		store_cmd_key(cmd, st, "notification", nids[i]);
	for (i = 0; i < n; i++)
		store_cmd_adds(cmd, nids[i]);
}

void
store_cmd_outbox_drop(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *nid, const char *address)
{
	store_cmd_script(cmd, STORE_SCRIPT_OUTBOX_DROP, sha,
	    address == NULL ? 4 : 5);
	store_cmd_key(cmd, st, "outbox:retry", NULL);
	store_cmd_key(cmd, st, "outbox:dead", NULL);
	store_cmd_note_keys(cmd, st, nid, address);
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_adds(cmd, nid);
}
