/*
 * stats: queue depths, the oldest pending comment and the totals, for
 * people, for scripts, and as a monitoring check (exit 2 on a breach).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "xmalloc.h"

/* One counter of {P}:stats. */
struct ctl_stats_total {
	const char *name;
	const char *value;
};

/* What stats reports. */
struct ctl_stats {
	struct store_depths d;
	long long age_s;		/* of the oldest pending, -1 if none */
	struct ctl_stats_total *totals;	/* in name order */
	size_t ntotals;
	long long known;		/* authors with an approved comment */
	json_t *breaches;		/* strings */
};

static int
ctl_stats_cmp(const void *a, const void *b)
{
	const struct ctl_stats_total *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void
ctl_stats_json(const struct ctl_stats *st)
{
	json_t *o = json_object(), *q = json_object(), *t = json_object();
	size_t i;
	char *iso;
	int s;

	for (s = 0; s < STORE__NSTATUS; s++)
		json_object_set_new(q, store_status_name(s),
		    json_integer(st->d.count[s]));
	json_object_set_new(o, "queues", q);
	if (st->age_s >= 0) {
		iso = ctl_output_iso((uint64_t)st->d.oldest_pending_ms);
		json_object_set_new(o, "oldest_pending_at", json_string(iso));
		json_object_set_new(o, "oldest_pending_age",
		    json_integer(st->age_s));
		free(iso);
	} else {
		json_object_set_new(o, "oldest_pending_at", json_null());
		json_object_set_new(o, "oldest_pending_age", json_null());
	}
	for (i = 0; i < st->ntotals; i++)
		json_object_set_new(t, st->totals[i].name,
		    json_integer(strtoll(st->totals[i].value, NULL, 10)));
	json_object_set_new(o, "totals", t);
	json_object_set_new(o, "known_authors", json_integer(st->known));
	json_object_set(o, "breaches", st->breaches);
	ctl_output_json(o);
}

static void
ctl_stats_print(struct ctl *ctl, const struct ctl_stats *st)
{
	const char *bold = ctl_color(ctl, CTL_BOLD);
	const char *reset = ctl_color(ctl, CTL_RESET);
	size_t i, w = strlen("known_authors");
	char age[16];
	int s;

	printf("%s%-10s %10s%s\n", bold, "QUEUE", "COMMENTS", reset);
	for (s = 0; s < STORE__NSTATUS; s++) {
		printf("%s%-10s%s %10lld", ctl_status_color(ctl,
		    store_status_name(s)), store_status_name(s), reset,
		    st->d.count[s]);
		if (s == STORE_PENDING && st->age_s >= 0) {
			ctl_output_age((uint64_t)st->age_s * 1000, age,
			    sizeof age);
			printf("   oldest %s", age);
		}
		printf("\n");
	}
	if (st->ntotals == 0)
		return;
	for (i = 0; i < st->ntotals; i++)
		if (strlen(st->totals[i].name) > w)
			w = strlen(st->totals[i].name);
	printf("\n%s%-*s %10s%s\n", bold, (int)w, "TOTALS", "", reset);
	for (i = 0; i < st->ntotals; i++)
		printf("%-*s %10s\n", (int)w, st->totals[i].name,
		    st->totals[i].value);
	printf("%-*s %10lld\n", (int)w, "known_authors", st->known);
}

int
ctl_stats_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "max-pending", required_argument, NULL, 'p' },
		{ "max-age", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	long long max_pending = -1, max_age = -1;
	struct ctl_stats st;
	struct store_cmd cmd;
	redisReply *r, *totals;
	const char *cause;
	uint64_t now = clock_wall_ms(), oldest;
	char msg[128];
	size_t i, n;
	int ch, json = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'p')
			max_pending = (long long)ctl_parse_number(ctl,
			    "--max-pending", optarg, 1000000000000UL);
		else if (ch == 'a')
			max_age = (long long)ctl_parse_number(ctl, "--max-age",
			    optarg, 1000000000000UL);
	}
	if (optind < argc)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);

	memset(&st, 0, sizeof st);
	store_cmd_init(&cmd);
	store_cmd_depths(&ctl->store, &cmd, NULL);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	if (store_depths_reply(r, &st.d, &cause) != 0)
		ctl_fatalx("Redis at %s: depths: %s", ctl->redis_name, cause);
	freeReplyObject(r);
	st.age_s = -1;
	if ((oldest = (uint64_t)st.d.oldest_pending_ms) > 0)
		st.age_s = (long long)(now > oldest ?
		    (now - oldest) / 1000 : 0);

	totals = ctl_db_commandf(ctl, "HGETALL %s:stats", ctl->store.tag);
	ctl_db_check(ctl, totals, "reading the totals");
	if (totals->type == REDIS_REPLY_ARRAY)
		st.ntotals = totals->elements / 2;
	st.totals = xcalloc(st.ntotals + 1, sizeof *st.totals);
	for (i = 0; i < st.ntotals; i++) {
		st.totals[i].name = totals->element[2 * i]->str;
		st.totals[i].value = totals->element[2 * i + 1]->str;
	}
	qsort(st.totals, st.ntotals, sizeof *st.totals, ctl_stats_cmp);
	r = ctl_db_commandf(ctl, "SCARD %s:known_authors", ctl->store.tag);
	ctl_db_check(ctl, r, "counting known authors");
	st.known = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);

	st.breaches = json_array();
	if (max_pending >= 0 && st.d.count[STORE_PENDING] > max_pending) {
		snprintf(msg, sizeof msg, "%lld comments pending, more than "
		    "--max-pending %lld", st.d.count[STORE_PENDING],
		    max_pending);
		json_array_append_new(st.breaches, json_string(msg));
	}
	if (max_age >= 0 && st.age_s > max_age) {
		snprintf(msg, sizeof msg, "the oldest pending comment waits "
		    "for %llds, longer than --max-age %lld", st.age_s, max_age);
		json_array_append_new(st.breaches, json_string(msg));
	}

	if (json)
		ctl_stats_json(&st);
	else
		ctl_stats_print(ctl, &st);
	n = json_array_size(st.breaches);
	for (i = 0; i < n; i++)
		ctl_warnx("stats: %s",
		    json_string_value(json_array_get(st.breaches, i)));
	json_decref(st.breaches);
	free(st.totals);
	freeReplyObject(totals);
	return n > 0 ? CTL_USAGE : CTL_OK;
}
