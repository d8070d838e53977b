/*
 * outbox: the notifications heinzeld has not delivered yet, the ones it
 * gave up on (the dead letters), and sending or dropping those by hand.
 * Listing reads the keys as they are; retry and drop are store scripts,
 * so they never race with a heinzeld delivering at the same time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "store_outbox.h"
#include "xmalloc.h"

#define CTL_OUTBOX_MAX 10000	/* entries listed at most, per state */
#define CTL_OUTBOX_BATCH 500	/* notifications requeued per script run */

struct ctl_outbox_row {
	const char *state;	/* "event", "ready", "retry", "dead" */
	char nid[32];		/* "" for an event */
	char entry[64];		/* stream entry id, "" if none */
	uint64_t when_ms;	/* due (retry) or given up (dead) */
	char *event, *comment;	/* an event */
	redisReply *h;		/* the notification's HGETALL, NULL if gone */
};

struct ctl_outbox {
	struct ctl_outbox_row *rows;
	size_t n, cap;
};

static struct ctl_outbox_row *
ctl_outbox_add(struct ctl_outbox *ob, const char *state)
{
	struct ctl_outbox_row *row;

	if (ob->n == ob->cap) {
		ob->cap = ob->cap ? ob->cap * 2 : 32;
		ob->rows = xreallocarray(ob->rows, ob->cap, sizeof *ob->rows);
	}
	row = &ob->rows[ob->n++];
	memset(row, 0, sizeof *row);
	row->state = state;
	return row;
}

static const char *
ctl_outbox_get(const struct ctl_outbox_row *row, const char *field)
{
	size_t i;

	if (row->h == NULL)
		return NULL;
	for (i = 0; i + 1 < row->h->elements; i += 2)
		if (row->h->element[i]->type == REDIS_REPLY_STRING &&
		    row->h->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(row->h->element[i]->str, field) == 0)
			return row->h->element[i + 1]->str;
	return NULL;
}

/* The field, or def when absent. */
static const char *
ctl_outbox_str(const struct ctl_outbox_row *row, const char *field,
    const char *def)
{
	const char *v = ctl_outbox_get(row, field);

	return v != NULL ? v : def;
}

/* The stream: events to expand and notifications ready to send. */
static void
ctl_outbox_stream(struct ctl *ctl, struct ctl_outbox *ob)
{
	struct store_outbox_entry e;
	struct ctl_outbox_row *row;
	struct store_cmd cmd;
	redisReply *r, *f;
	size_t i, j;

	/* Entries done stay until trimmed: trim first, so none is listed. */
	store_cmd_init(&cmd);
	store_cmd_outbox_trim(&ctl->store, &cmd, NULL);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	ctl_db_check(ctl, r, "trimming the outbox");
	freeReplyObject(r);
	r = ctl_db_commandf(ctl, "XRANGE %s:outbox - + COUNT %d",
	    ctl->store.tag, CTL_OUTBOX_MAX);
	ctl_db_check(ctl, r, "reading the outbox");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_ARRAY ||
		    r->element[i]->elements != 2 ||
		    r->element[i]->element[0]->type != REDIS_REPLY_STRING)
			continue;
		memset(&e, 0, sizeof e);
		f = r->element[i]->element[1];
		for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
		    j += 2) {
			if (f->element[j]->type != REDIS_REPLY_STRING ||
			    f->element[j + 1]->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(f->element[j]->str, "event") == 0)
				e.event = f->element[j + 1]->str;
			else if (strcmp(f->element[j]->str, "id") == 0)
				e.comment = f->element[j + 1]->str;
			else if (strcmp(f->element[j]->str, "n") == 0)
				e.nid = f->element[j + 1]->str;
		}
		row = ctl_outbox_add(ob, e.nid != NULL ? "ready" : "event");
		snprintf(row->entry, sizeof row->entry, "%s",
		    r->element[i]->element[0]->str);
		if (e.nid != NULL)
			snprintf(row->nid, sizeof row->nid, "%s", e.nid);
		row->event = xstrdup(e.event != NULL ? e.event : "?");
		row->comment = xstrdup(e.comment != NULL ? e.comment : "");
	}
	freeReplyObject(r);
}

/* A sorted set of notification ids with their times. */
static void
ctl_outbox_set(struct ctl *ctl, struct ctl_outbox *ob, const char *which)
{
	struct ctl_outbox_row *row;
	redisReply *r;
	size_t i;

	r = ctl_db_commandf(ctl, "ZRANGE %s:outbox:%s 0 %d WITHSCORES",
	    ctl->store.tag, which, CTL_OUTBOX_MAX - 1);
	ctl_db_check(ctl, r, "reading the outbox");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		row = ctl_outbox_add(ob, which);
		snprintf(row->nid, sizeof row->nid, "%s", r->element[i]->str);
		row->when_ms = strtoull(r->element[i + 1]->str, NULL, 10);
	}
	freeReplyObject(r);
}

/* Everything, with each notification's hash (pipelined). */
static void
ctl_outbox_load(struct ctl *ctl, struct ctl_outbox *ob)
{
	size_t i;
	void *p;

	ctl_outbox_stream(ctl, ob);
	ctl_outbox_set(ctl, ob, "retry");
	ctl_outbox_set(ctl, ob, "dead");
	for (i = 0; i < ob->n; i++)
		if (ob->rows[i].nid[0] != '\0')
			redisAppendCommand(ctl->rc, "HGETALL %s:notification:%s",
			    ctl->store.tag, ob->rows[i].nid);
	for (i = 0; i < ob->n; i++) {
		if (ob->rows[i].nid[0] == '\0')
			continue;
		if (redisGetReply(ctl->rc, &p) != REDIS_OK || p == NULL)
			ctl_fatalx("lost the connection to Redis at %s",
			    ctl->redis_name);
		ob->rows[i].h = p;
		ctl_db_check(ctl, ob->rows[i].h, "reading a notification");
		if (ob->rows[i].h->type != REDIS_REPLY_ARRAY ||
		    ob->rows[i].h->elements == 0) {
			freeReplyObject(ob->rows[i].h);
			ob->rows[i].h = NULL;
		}
	}
}

static void
ctl_outbox_free(struct ctl_outbox *ob)
{
	size_t i;

	for (i = 0; i < ob->n; i++) {
		if (ob->rows[i].h != NULL)
			freeReplyObject(ob->rows[i].h);
		free(ob->rows[i].event);
		free(ob->rows[i].comment);
	}
	free(ob->rows);
}

static json_t *
ctl_outbox_json(const struct ctl_outbox *ob)
{
	static const char *const fields[] = {
		"channel", "kind", "to", "comment", "lang", "attempts", "error"
	};
	const struct ctl_outbox_row *row;
	json_t *a = json_array(), *o;
	const char *v;
	size_t i, j;
	char *iso;

	for (i = 0; i < ob->n; i++) {
		row = &ob->rows[i];
		o = json_pack("{s:s}", "state", row->state);
		if (row->nid[0] != '\0')
			json_object_set_new(o, "id", json_string(row->nid));
		if (row->entry[0] != '\0')
			json_object_set_new(o, "entry", json_string(row->entry));
		if (strcmp(row->state, "event") == 0) {
			json_object_set_new(o, "event", json_string(row->event));
			json_object_set_new(o, "comment", json_string(row->comment));
		}
		for (j = 0; j < sizeof fields / sizeof fields[0]; j++) {
			if ((v = ctl_outbox_get(row, fields[j])) == NULL)
				continue;
			if (strcmp(fields[j], "attempts") == 0)
				json_object_set_new(o, "attempts",
				    json_integer(strtoll(v, NULL, 10)));
			else
				json_object_set_new(o, fields[j], json_string(v));
		}
		if (row->when_ms != 0) {
			iso = ctl_output_iso(row->when_ms);
			json_object_set_new(o, strcmp(row->state, "retry") == 0 ?
			    "due" : "failed_at", json_string(iso));
			free(iso);
		}
		json_array_append_new(a, o);
	}
	return a;
}

static void
ctl_outbox_print(struct ctl *ctl, const struct ctl_outbox *ob)
{
	const struct ctl_outbox_row *row;
	const char *bold = ctl_color(ctl, CTL_BOLD), *reset = ctl_color(ctl, CTL_RESET);
	const char *v, *color;
	uint64_t now = clock_wall_ms();
	char when[32], age[16], to[64], *err;
	size_t i, left;

	if (ob->n == 0) {
		printf("no notifications waiting or given up on\n");
		return;
	}
	printf("%s%-6s %-6s %-8s %-10s %-26s %5s  %-9s %s%s\n", bold, "ID",
	    "STATE", "CHANNEL", "KIND", "TO", "TRIES", "WHEN", "ERROR", reset);
	for (i = 0; i < ob->n; i++) {
		row = &ob->rows[i];
		when[0] = '\0';
		if (strcmp(row->state, "retry") == 0) {
			ctl_output_age(row->when_ms > now ? row->when_ms - now : 0,
			    age, sizeof age);
			snprintf(when, sizeof when, "in %s", age);
		} else if (strcmp(row->state, "dead") == 0) {
			ctl_output_age(now > row->when_ms ? now - row->when_ms : 0,
			    age, sizeof age);
			snprintf(when, sizeof when, "%s ago", age);
		}
		color = strcmp(row->state, "dead") == 0 ? ctl_color(ctl, CTL_RED) :
		    strcmp(row->state, "retry") == 0 ?
		    ctl_color(ctl, CTL_YELLOW) : "";
		if (strcmp(row->state, "event") == 0) {
			printf("%-6s %s%-6s%s %-8s %-10s comment %s\n", "-", color,
			    row->state, *color ? reset : "", "-", row->event,
			    row->comment);
			continue;
		}
		v = ctl_outbox_get(row, "to");
		snprintf(to, sizeof to, "%s", v != NULL && *v != '\0' ? v :
		    row->h != NULL ? "-" : "(gone)");
		printf("%-6s %s%-6s%s %-8s %-10s %-26s %5s  %-9s ", row->nid,
		    color, row->state, *color ? reset : "",
		    ctl_outbox_str(row, "channel", "-"),
		    ctl_outbox_str(row, "kind", "-"), to,
		    ctl_outbox_str(row, "attempts", "-"), when);
		/* The last column: whole unless a terminal's width ends it. */
		left = !isatty(STDOUT_FILENO) ? SIZE_MAX / 2 :
		    ctl->width > 82 + 30 ? ctl->width - 82 : 30;
		err = ctl_output_fit(ctl_outbox_str(row, "error", ""), left);
		printf("%s\n", err);
		free(err);
	}
}

static int
ctl_outbox_list(struct ctl *ctl, bool json)
{
	struct ctl_outbox ob = { NULL, 0, 0 };

	ctl_outbox_load(ctl, &ob);
	if (json)
		ctl_output_json(ctl_outbox_json(&ob));
	else
		ctl_outbox_print(ctl, &ob);
	ctl_outbox_free(&ob);
	return CTL_OK;
}

/* A notification id: digits, as the outbox counter makes them. */
static void
ctl_outbox_check_id(struct ctl *ctl, const char *id)
{
	if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) ||
	    strlen(id) > 20)
		ctl_usage_errx(ctl, "%s: not a notification id, the number "
		    "in the ID column of the list", id);
}

/* Run the drop script for nids[0], or the requeue script for the n nids. */
static long long
ctl_outbox_script(struct ctl *ctl, bool drop, const char *const *nids,
    size_t n)
{
	struct store_cmd cmd;
	const char *cause;
	redisReply *r, *seen;
	long long done;

	store_cmd_init(&cmd);
	if (drop) {
		/* Its address first, to name its index in KEYS. */
		store_cmd_note_read(&ctl->store, &cmd, nids[0]);
		seen = ctl_db_command(ctl, &cmd);
		store_cmd_free(&cmd);
		if (seen == NULL || seen->type != REDIS_REPLY_ARRAY)
			ctl_fatalx("Redis at %s: outbox drop: %s", ctl->redis_name,
			    seen != NULL && seen->type == REDIS_REPLY_ERROR ?
			    seen->str : "unexpected reply reading it");
		store_cmd_init(&cmd);
		store_cmd_outbox_drop(&ctl->store, &cmd, NULL, nids[0],
		    store_note_read_address(seen));
		freeReplyObject(seen);
	} else
		store_cmd_outbox_requeue(&ctl->store, &cmd, NULL, nids, n);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	if (store_integer_reply(r, &done, &cause) != 0)
		ctl_fatalx("Redis at %s: outbox %s: %s", ctl->redis_name,
		    drop ? "drop" : "retry", cause);
	freeReplyObject(r);
	return done;
}

/*
 * Requeue every notification dead when asked, CTL_OUTBOX_BATCH at a time
 * (each one's key is in KEYS): read first, so that one given up on again
 * meanwhile is not sent round and round.
 */
static long long
ctl_outbox_requeue_dead(struct ctl *ctl)
{
	const char **nids;
	redisReply *r;
	size_t i, n = 0, k;
	long long done = 0;

	r = ctl_db_commandf(ctl, "ZRANGE %s:outbox:dead 0 -1", ctl->store.tag);
	ctl_db_check(ctl, r, "reading the outbox");
	nids = xcalloc(r->elements + 1, sizeof *nids);
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			nids[n++] = r->element[i]->str;
	for (i = 0; i < n; i += k) {
		k = n - i < CTL_OUTBOX_BATCH ? n - i : CTL_OUTBOX_BATCH;
		done += ctl_outbox_script(ctl, false, nids + i, k);
	}
	free(nids);
	freeReplyObject(r);
	return done;
}

static int
ctl_outbox_act(struct ctl *ctl, bool drop, bool all, bool json, int argc,
    char **argv)
{
	json_t *results = json ? json_array() : NULL;
	int i, rc = CTL_OK;
	long long n;

	if (all) {
		if (drop || argc > 0)
			ctl_usage_errx(ctl, "--all goes with retry and no ids");
		n = ctl_outbox_requeue_dead(ctl);
		if (json)
			ctl_output_json(json_pack("{s:I}", "requeued", (json_int_t)n));
		else
			printf("%lld notification%s queued to be sent again\n", n,
			    n == 1 ? "" : "s");
		return CTL_OK;
	}
	if (argc == 0)
		ctl_usage_errx(ctl, "%s: expected notification ids or --all",
		    drop ? "drop" : "retry");
	for (i = 0; i < argc; i++)
		ctl_outbox_check_id(ctl, argv[i]);
	for (i = 0; i < argc; i++) {
		n = ctl_outbox_script(ctl, drop,
		    (const char *const *)&argv[i], 1);
		if (n == 0) {
			rc = CTL_FAIL;
			if (!json)
				ctl_warnx("%s: no such notification waiting or "
				    "given up on", argv[i]);
		} else if (!json)
			printf("%s: %s\n", argv[i], drop ? "dropped" :
			    "queued to be sent again");
		if (json)
			json_array_append_new(results, json_pack("{s:s, s:b}",
			    "id", argv[i], "ok", n > 0));
	}
	if (json)
		ctl_output_json(json_pack("{s:o}", "results", results));
	return rc;
}

int
ctl_outbox_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	bool json = false, all = false;
	const char *sub = "list";
	int ch;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'j')
			json = true;
		else if (ch == 'a')
			all = true;
	}
	argc -= optind;
	argv += optind;
	if (argc > 0) {
		sub = argv[0];
		argc--;
		argv++;
	}
	if (strcmp(sub, "list") == 0) {
		if (argc > 0 || all)
			ctl_usage_errx(ctl, "list takes no ids");
		return ctl_outbox_list(ctl, json);
	}
	if (strcmp(sub, "retry") == 0 || strcmp(sub, "drop") == 0)
		return ctl_outbox_act(ctl, sub[0] == 'd', all, json, argc, argv);
	ctl_usage_errx(ctl, "%s: expected list, retry or drop", sub);
}
