/*
 * stats: queue depths, the oldest pending comment and the totals, for
 * people, for scripts, and as a monitoring plugin: one status line with
 * performance data and the exit status 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN, as Nagios, Icinga and their successors read it.
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
	int status;			/* CTL_PLUGIN_OK ... CRITICAL */
};

/* The thresholds; -1 where not given. */
struct ctl_stats_limits {
	long long warn_pending, crit_pending;
	long long warn_age, crit_age;		/* seconds */
};

static const char *const ctl_stats_status_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
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
	json_object_set_new(o, "status",
	    json_string(ctl_stats_status_names[st->status]));
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

/* One threshold: the breach message and the worse status. */
static void
ctl_stats_check(struct ctl_stats *st, long long value, long long limit,
    int status, const char *what, const char *unit)
{
	char msg[160];

	if (limit < 0 || value <= limit)
		return;
	snprintf(msg, sizeof msg, "%s %lld%s (more than %lld%s%s)", what,
	    value, unit, limit, unit,
	    status == CTL_PLUGIN_CRITICAL ? ", critical" : "");
	json_array_append_new(st->breaches, json_string(msg));
	if (status > st->status)
		st->status = status;
}

/* "pending=60;50;100;0": a value with its thresholds, "" where none. */
static void
ctl_stats_perf(const char *label, long long v, const char *unit,
    long long warn, long long crit)
{
	printf("%s=%lld%s;", label, v, unit);
	if (warn >= 0)
		printf("%lld", warn);
	printf(";");
	if (crit >= 0)
		printf("%lld", crit);
	printf(";0");
}

static void
ctl_stats_plugin(const struct ctl_stats *st, const struct ctl_stats_limits *l)
{
	char age[16];
	size_t i, n = json_array_size(st->breaches);

	printf("HEINZEL %s - ", ctl_stats_status_names[st->status]);
	if (n == 0) {
		printf("%lld pending", st->d.count[STORE_PENDING]);
		if (st->age_s >= 0) {
			ctl_output_age((uint64_t)st->age_s * 1000, age, sizeof age);
			printf(", oldest %s", age);
		}
	}
	for (i = 0; i < n; i++)
		printf("%s%s", i > 0 ? "; " : "",
		    json_string_value(json_array_get(st->breaches, i)));
	printf(" | ");
	ctl_stats_perf("pending", st->d.count[STORE_PENDING], "",
	    l->warn_pending, l->crit_pending);
	printf(" ");
	ctl_stats_perf("oldest", st->age_s >= 0 ? st->age_s : 0, "s",
	    l->warn_age, l->crit_age);
	printf("\n");
}

static long long
ctl_stats_count(struct ctl *ctl, const char *opt, const char *s)
{
	return (long long)ctl_parse_number(ctl, opt, s, 1000000000000UL);
}

int
ctl_stats_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "warn-pending", required_argument, NULL, 'p' },
		{ "crit-pending", required_argument, NULL, 'P' },
		{ "max-pending", required_argument, NULL, 'm' },
		{ "warn-age", required_argument, NULL, 'a' },
		{ "crit-age", required_argument, NULL, 'A' },
		{ "max-age", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_stats_limits lim = { -1, -1, -1, -1 };
	struct ctl_stats st;
	struct store_cmd cmd;
	redisReply *r, *totals;
	const char *cause;
	uint64_t now = clock_wall_ms(), oldest;
	size_t i;
	int ch, json = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			lim.warn_pending = ctl_stats_count(ctl,
			    "--warn-pending", optarg);
			break;
		case 'P':
		case 'm':
			lim.crit_pending = ctl_stats_count(ctl, ch == 'P' ?
			    "--crit-pending" : "--max-pending", optarg);
			break;
		case 'a':
			lim.warn_age = (long long)(ctl_parse_duration(ctl,
			    "--warn-age", optarg) / 1000);
			break;
		case 'A':
		case 'M':
			lim.crit_age = (long long)(ctl_parse_duration(ctl,
			    ch == 'A' ? "--crit-age" : "--max-age", optarg) / 1000);
			break;
		}
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

	/* Critical first: a value over both limits is named once, as critical. */
	st.breaches = json_array();
	st.status = CTL_PLUGIN_OK;
	ctl_stats_check(&st, st.d.count[STORE_PENDING], lim.crit_pending,
	    CTL_PLUGIN_CRITICAL, "pending", "");
	if (st.status != CTL_PLUGIN_CRITICAL)
		ctl_stats_check(&st, st.d.count[STORE_PENDING],
		    lim.warn_pending, CTL_PLUGIN_WARNING, "pending", "");
	i = json_array_size(st.breaches);
	ctl_stats_check(&st, st.age_s, lim.crit_age, CTL_PLUGIN_CRITICAL,
	    "oldest pending", "s");
	if (json_array_size(st.breaches) == i)
		ctl_stats_check(&st, st.age_s, lim.warn_age,
		    CTL_PLUGIN_WARNING, "oldest pending", "s");

	if (json)
		ctl_stats_json(&st);
	else if (lim.warn_pending >= 0 || lim.crit_pending >= 0 ||
	    lim.warn_age >= 0 || lim.crit_age >= 0)
		ctl_stats_plugin(&st, &lim);
	else
		ctl_stats_print(ctl, &st);
	json_decref(st.breaches);
	free(st.totals);
	freeReplyObject(totals);
	return st.status;
}
