/*
 * heinzelctl's Redis: one synchronous hiredis connection, the comments as
 * stored, and the selection of comments by filter.  Reading is plain
 * commands; every change is a store script (ctl-moderate.c).
 */
#include <sys/time.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "sentinel.h"
#include "xmalloc.h"

#define CTL_DB_BATCH 256	/* HGETALLs pipelined at once */

void
ctl_db_connect(struct ctl *ctl)
{
	unsigned int ms = ctl->cfg->redis_timeout_ms;
	struct store_addr a;
	struct store_cmd auth;
	struct timeval tv;
	redisContext *c;
	redisReply *r;
	char *cause;
	bool refused;

	if (store_addr_config(&a, ctl->cfg, &cause) != 0 ||
	    sentinel_resolve(&a, ms ? ms : 2000, &cause) < 0 ||
	    store_addr_auth(&a, &auth, &cause) != 0)
		ctl_fatalx("%s (check %s)", cause, ctl->redis_hint);
	ctl->redis_name = store_addr_name(&a);
	if (ms == 0)
		ms = 2000;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	c = sentinel_connect(&a, &auth, tv, &cause, &refused);
	store_cmd_free(&auth);
	if (c == NULL && refused)
		ctl_fatalx("Redis at %s refused the login%s%s: %s "
		    "(check [redis] user and password_file, or %s)",
		    ctl->redis_name, a.user ? " as user " : "",
		    a.user ? a.user : "", cause, ctl->redis_hint);
	if (c == NULL)
		ctl_fatalx("cannot reach Redis at %s: %s (is redis-server "
		    "running? check %s)", ctl->redis_name, cause,
		    ctl->redis_hint);
	ctl->rc = c;
	if (a.db != 0) {
		r = redisCommand(c, "SELECT %d", a.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			ctl_fatalx("Redis at %s: cannot select database %d: %s",
			    ctl->redis_name, a.db, r ? r->str : c->errstr);
		freeReplyObject(r);
	}
	store_addr_free(&a);
}

void
ctl_db_close(struct ctl *ctl)
{
	if (ctl->rc != NULL)
		redisFree(ctl->rc);
	ctl->rc = NULL;
	free(ctl->redis_name);
	ctl->redis_name = NULL;
}

static void __attribute__((noreturn))
ctl_db_lost(struct ctl *ctl)
{
	ctl_fatalx("lost the connection to Redis at %s: %s (is redis-server "
	    "running?)", ctl->redis_name, ctl->rc->errstr[0] ?
	    ctl->rc->errstr : "no reply");
}

redisReply *
ctl_db_command(struct ctl *ctl, struct store_cmd *cmd)
{
	redisReply *r;

	if (ctl->rc == NULL)
		ctl_db_connect(ctl);
	r = redisCommandArgv(ctl->rc, cmd->argc, cmd->argv, cmd->argvlen);
	if (r == NULL)
		ctl_db_lost(ctl);
	return r;
}

redisReply *
ctl_db_commandf(struct ctl *ctl, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	if (ctl->rc == NULL)
		ctl_db_connect(ctl);
	va_start(ap, fmt);
	r = redisvCommand(ctl->rc, fmt, ap);
	va_end(ap);
	if (r == NULL)
		ctl_db_lost(ctl);
	return r;
}

void
ctl_db_check(struct ctl *ctl, const redisReply *r, const char *what)
{
	if (r->type == REDIS_REPLY_ERROR)
		ctl_fatalx("Redis at %s: %s: %s", ctl->redis_name, what,
		    r->str);
}

/* A comment from its HGETALL reply (taken over), or NULL when empty. */
static struct ctl_comment *
ctl_db_wrap(const char *id, redisReply *r)
{
	struct ctl_comment *c;
	const char *v;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->elements % 2 != 0) {
		freeReplyObject(r);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->r = r;
	snprintf(c->id, sizeof c->id, "%s", id);
	if ((v = ctl_comment_get(c, "created_at")) != NULL)
		c->created_ms = strtoull(v, NULL, 10);
	return c;
}

struct ctl_comment *
ctl_db_comment(struct ctl *ctl, const char *id)
{
	redisReply *r;

	r = ctl_db_commandf(ctl, "HGETALL %s:comment:%s", ctl->store.tag, id);
	ctl_db_check(ctl, r, "reading a comment");
	return ctl_db_wrap(id, r);
}

void
ctl_comment_free(struct ctl_comment *c)
{
	if (c == NULL)
		return;
	freeReplyObject(c->r);
	free(c);
}

void
ctl_comment_free_all(struct ctl_comment **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ctl_comment_free(v[i]);
	free(v);
}

const char *
ctl_comment_get(const struct ctl_comment *c, const char *field)
{
	size_t i;

	for (i = 0; i + 1 < c->r->elements; i += 2)
		if (c->r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(c->r->element[i]->str, field) == 0)
			return c->r->element[i + 1]->str;
	return NULL;
}

/* The hits are "NAME=points NAME=points". */
bool
ctl_comment_has_rule(const struct ctl_comment *c, const char *rule)
{
	const char *p = ctl_comment_get(c, "hits");
	size_t n = strlen(rule);

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, rule, n) == 0 && p[n] == '=')
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

/* ---- selection ---- */

struct ctl_db_ids {
	char **id;
	size_t n, cap;
};

static void
ctl_db_ids_add(struct ctl_db_ids *ids, const char *id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		ids->id = xreallocarray(ids->id, ids->cap, sizeof *ids->id);
	}
	ids->id[ids->n++] = xstrdup(id);
}

/* Append the ids of an array reply. */
static void
ctl_db_ids_take(struct ctl *ctl, struct ctl_db_ids *ids, redisReply *r)
{
	size_t i;

	ctl_db_check(ctl, r, "reading a queue");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			ctl_db_ids_add(ids, r->element[i]->str);
	freeReplyObject(r);
}

static int
ctl_db_cmp(const void *a, const void *b)
{
	const struct ctl_comment *x = *(struct ctl_comment *const *)a;
	const struct ctl_comment *y = *(struct ctl_comment *const *)b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

static bool
ctl_db_match(const struct ctl_filter *f, const struct ctl_comment *c,
    uint64_t cutoff)
{
	const char *v;

	if (f->status >= 0 && ((v = ctl_comment_get(c, "status")) == NULL ||
	    strcmp(v, store_status_name(f->status)) != 0))
		return false;
	if (f->post != NULL && ((v = ctl_comment_get(c, "post")) == NULL ||
	    strcmp(v, f->post) != 0))
		return false;
	if (f->older_than_ms != 0 && c->created_ms > cutoff)
		return false;
	if (f->ip != NULL && ((v = ctl_comment_get(c, "ip")) == NULL ||
	    strcmp(v, f->ip) != 0))
		return false;
	if (f->rule != NULL && !ctl_comment_has_rule(c, f->rule))
		return false;
	return true;
}

/* HGETALL every id (pipelined) and keep the comments that match. */
static struct ctl_comment **
ctl_db_load(struct ctl *ctl, const struct ctl_db_ids *ids,
    const struct ctl_filter *f, uint64_t cutoff, size_t *n)
{
	struct ctl_comment **out, *c;
	size_t i, j, end;
	redisReply *r;
	void *p;

	out = xcalloc(ids->n + 1, sizeof *out);
	*n = 0;
	for (i = 0; i < ids->n; i = end) {
		end = i + CTL_DB_BATCH < ids->n ? i + CTL_DB_BATCH : ids->n;
		for (j = i; j < end; j++)
			redisAppendCommand(ctl->rc, "HGETALL %s:comment:%s",
			    ctl->store.tag, ids->id[j]);
		for (j = i; j < end; j++) {
			if (redisGetReply(ctl->rc, &p) != REDIS_OK || p == NULL)
				ctl_db_lost(ctl);
			r = p;
			ctl_db_check(ctl, r, "reading a comment");
			if ((c = ctl_db_wrap(ids->id[j], r)) == NULL)
				continue;	/* deleted since */
			if (ctl_db_match(f, c, cutoff))
				out[(*n)++] = c;
			else
				ctl_comment_free(c);
		}
	}
	return out;
}

struct ctl_comment **
ctl_db_select(struct ctl *ctl, const struct ctl_filter *f, size_t *n,
    size_t *more)
{
	const char *tag = ctl->store.tag;
	struct ctl_db_ids ids = { NULL, 0, 0 };
	struct ctl_comment **out, *tmp;
	uint64_t now = clock_wall_ms(), cutoff = 0;
	char max[32];
	long long total = -1;
	size_t i;
	redisReply *r;
	int s;

	if (f->older_than_ms != 0)
		cutoff = now > f->older_than_ms ? now - f->older_than_ms : 0;
	if (f->older_than_ms != 0)
		snprintf(max, sizeof max, "%" PRIu64, cutoff);
	else
		snprintf(max, sizeof max, "+inf");

	if (f->post == NULL && f->rule == NULL && f->ip == NULL &&
	    f->status >= 0) {
		/* One queue, nothing to look at but the time: Redis counts. */
		const char *q = store_status_name(f->status);
		long long lim = f->limit ? (long long)f->limit : -1;

		r = ctl_db_commandf(ctl, "ZCOUNT %s:queue:%s -inf %s", tag, q,
		    max);
		ctl_db_check(ctl, r, "counting a queue");
		total = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
		freeReplyObject(r);
		if (f->newest_first)
			r = ctl_db_commandf(ctl, "ZREVRANGEBYSCORE %s:queue:%s "
			    "%s -inf LIMIT 0 %lld", tag, q, max, lim);
		else
			r = ctl_db_commandf(ctl, "ZRANGEBYSCORE %s:queue:%s "
			    "-inf %s LIMIT 0 %lld", tag, q, max, lim);
		ctl_db_ids_take(ctl, &ids, r);
	} else if (f->post != NULL) {
		r = ctl_db_commandf(ctl, "ZRANGEBYSCORE %s:post:%s -inf %s",
		    tag, f->post, max);
		ctl_db_ids_take(ctl, &ids, r);
	} else {
		for (s = 0; s < STORE__NSTATUS; s++) {
			if (f->status >= 0 && s != f->status)
				continue;
			r = ctl_db_commandf(ctl, "ZRANGEBYSCORE %s:queue:%s "
			    "-inf %s", tag, store_status_name(s), max);
			ctl_db_ids_take(ctl, &ids, r);
		}
	}

	out = ctl_db_load(ctl, &ids, f, cutoff, n);
	for (i = 0; i < ids.n; i++)
		free(ids.id[i]);
	free(ids.id);

	qsort(out, *n, sizeof *out, ctl_db_cmp);
	if (f->newest_first)
		for (i = 0; i < *n / 2; i++) {
			tmp = out[i];
			out[i] = out[*n - 1 - i];
			out[*n - 1 - i] = tmp;
		}
	*more = 0;
	if (total >= 0) {
		if ((size_t)total > *n)
			*more = (size_t)total - *n;
	} else if (f->limit != 0 && *n > f->limit) {
		*more = *n - f->limit;
		for (i = f->limit; i < *n; i++)
			ctl_comment_free(out[i]);
		*n = f->limit;
	}
	return out;
}
