/*
 * rules check and rules test: the rule set as heinzeld loads it, without
 * a running heinzeld.  rules test scores as heinzeld does (scoring.h):
 * rules, built-in checks and the classifier, whose counts it reads from
 * Redis unless told not to.  rules stats: what the moderators' decisions,
 * counted per rule by the transition script (store.c), say of each rule.
 * rules replay: the same scoring over every decided comment, with
 * candidate rules, against those decisions.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "bayes_store.h"
#include "checks.h"
#include "clock.h"
#include "comment.h"
#include "config.h"
#include "ctl.h"
#include "fault.h"
#include "rules.h"
#include "score.h"
#include "scoring.h"
#include "tokenize.h"
#include "xmalloc.h"

#define CTL_RULES_MAX_INPUT (16 * 1024 * 1024)

/* What the classifier said, or why it was not asked. */
struct ctl_rules_bayes {
	bool asked;
	const char *why;		/* when not asked */
	struct bayes_result res;
	struct bayes_counts learned;
	unsigned int min_spam, min_ham;
};

/* Print every error line of ruleset_load. */
static void
ctl_rules_errors(const char *errors)
{
	fflush(stdout);
	fprintf(stderr, "%s%s", errors, errors[0] != '\0' &&
	    errors[strlen(errors) - 1] != '\n' ? "\n" : "");
}

int
ctl_rules_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	struct ruleset *rs;
	const char *dir;
	char *errors = NULL;
	size_t n;

	while (ctl_getopt(ctl, argc, argv, ":", longopts) != -1)
		;
	if (optind + 1 < argc)
		ctl_usage_errx(ctl, "one directory at a time");
	dir = optind < argc ? argv[optind] : ctl->cfg->rules_dir;
	if ((rs = ruleset_load(dir, &errors)) == NULL) {
		ctl_rules_errors(errors ? errors : "");
		ctl_warnx("rules check: %s: not loaded; fix the lines above",
		    dir);
		free(errors);
		return CTL_FAIL;
	}
	n = ruleset_count(rs);
	printf("%zu rule%s OK (%s)\n", n, n == 1 ? "" : "s", dir);
	ruleset_unref(rs);
	return CTL_OK;
}

/* The rule's description from a loaded set, "" if none. */
static const char *
ctl_rules_find(const struct ruleset *rs, const char *name)
{
	struct rule_info ri;
	size_t i;

	for (i = 0; rs != NULL && i < ruleset_count(rs); i++) {
		ruleset_rule(rs, i, &ri);
		if (strcmp(ri.name, name) == 0)
			return ri.description;
	}
	return NULL;
}

const char *
ctl_rules_description(struct ctl *ctl, const char *name)
{
	char *errors = NULL;

	if (!ctl->rules_tried) {
		/* Best effort: show works without readable rules too. */
		ctl->rules_tried = true;
		ctl->rules = ruleset_load(ctl->cfg->rules_dir, &errors);
		free(errors);
	}
	return ctl_rules_find(ctl->rules, name);
}

/* What a hit means: a rule's description, a check's or the classifier's. */
static void
ctl_rules_why(struct ctl *ctl, const struct ruleset *rs,
    const struct score_hit *h, const struct bayes_result *bayes, char *buf,
    size_t size)
{
	const char *desc;

	buf[0] = '\0';
	switch (h->part) {
	case SCORE_RULE:
		desc = ctl_rules_find(rs, h->name);
		if (h->count > 1)
			snprintf(buf, size, "%s%s(%u or more matches, scored "
			    "once)",
			    desc ? desc : "", desc && desc[0] ? " " : "",
			    h->count);
		else
			snprintf(buf, size, "%s", desc ? desc : "");
		break;
	case SCORE_CHECK:
		if (strcmp(h->name, CHECK_TOO_MANY_LINKS) == 0)
			snprintf(buf, size, "%u links, more than [checks] "
			    "max_links %u", h->count, ctl->cfg->max_links);
		else if (strcmp(h->name, CHECK_HONEYPOT) == 0)
			snprintf(buf, size, "the honeypot field is filled in");
		break;
	case SCORE_BAYES:
		if (bayes != NULL)
			snprintf(buf, size, "spam probability %.2f",
			    bayes->prob);
		break;
	default:
		break;
	}
}

/* The sum of one part's hits. */
static double
ctl_rules_part_total(const struct score *s, enum score_part p)
{
	double t = 0;
	size_t i;

	for (i = 0; i < s->nhits; i++)
		if (s->hits[i].part == p)
			t += s->hits[i].points;
	return t;
}

/* What the classifier did: NULL when it scored, else why not. */
static const char *
ctl_rules_bayes_state(const struct ctl_rules_bayes *b, char *buf, size_t size)
{
	if (!b->asked)
		return b->why;
	if (!b->res.ready) {
		snprintf(buf, size, "not trained enough yet: %lu spam and %lu "
		    "ham learned, scores from %u and %u", b->learned.nspam,
		    b->learned.nham, b->min_spam, b->min_ham);
		return buf;
	}
	return NULL;
}

static void
ctl_rules_report_json(struct ctl *ctl, const struct ruleset *rs,
    const struct score *s, enum verdict verdict,
    const struct ctl_rules_bayes *b)
{
	json_t *hits, *parts, *bayes;
	char why[512], state[256];
	const char *not;
	size_t i;
	int p;

	hits = json_array();
	for (i = 0; i < s->nhits; i++) {
		ctl_rules_why(ctl, rs, &s->hits[i], b->asked ? &b->res : NULL,
		    why, sizeof why);
		json_array_append_new(hits, json_pack("{s:s, s:s, s:f, s:i, "
		    "s:s}", "rule", s->hits[i].name,
		    "part", score_part_name(s->hits[i].part),
		    "points", s->hits[i].points, "count", (int)s->hits[i].count,
		    "description", why));
	}
	parts = json_object();
	for (p = 0; p < SCORE__NPARTS; p++)
		json_object_set_new(parts, score_part_name(p),
		    json_real(ctl_rules_part_total(s, p)));
	not = ctl_rules_bayes_state(b, state, sizeof state);
	bayes = json_pack("{s:b, s:o}", "scored", not == NULL,
	    "note", not ? json_string(not) : json_null());
	if (b->asked) {
		json_object_set_new(bayes, "probability", json_real(b->res.prob));
		json_object_set_new(bayes, "spam_learned",
		    json_integer((json_int_t)b->learned.nspam));
		json_object_set_new(bayes, "ham_learned",
		    json_integer((json_int_t)b->learned.nham));
	}
	ctl_output_json(json_pack("{s:f, s:s, s:f, s:f, s:o, s:o, s:o}",
	    "total", s->total, "verdict", verdict_name(verdict),
	    "hold_score", ctl->cfg->hold_score,
	    "reject_score", ctl->cfg->reject_score, "parts", parts,
	    "bayes", bayes, "hits", hits));
}

static void
ctl_rules_report(struct ctl *ctl, const struct ruleset *rs,
    const struct score *s, enum verdict verdict,
    const struct ctl_rules_bayes *b)
{
	char points[32], why[512], state[256];
	const char *not;
	size_t i, w = 4, n;
	int p;

	score_format_points(s->total, points, sizeof points);
	printf("score %s%s%s: %s%s%s (hold_score %g, reject_score %g)\n",
	    ctl_score_color(ctl, s->total), points, ctl_color(ctl, CTL_RESET),
	    ctl_color(ctl, CTL_BOLD), verdict_name(verdict),
	    ctl_color(ctl, CTL_RESET), ctl->cfg->hold_score,
	    ctl->cfg->reject_score);
	for (i = 0; i < s->nhits; i++)
		if (strlen(s->hits[i].name) > w)
			w = strlen(s->hits[i].name);
	for (p = 0; p < SCORE__NPARTS; p++) {
		points[0] = '+';
		score_format_points(ctl_rules_part_total(s, p), points + 1,
		    sizeof points - 1);
		printf("%s %s", score_part_name(p),
		    points[1] == '-' ? points + 1 : points);
		not = p == SCORE_BAYES ? ctl_rules_bayes_state(b, state,
		    sizeof state) : NULL;
		if (not != NULL) {
			printf(" (");
			ctl_output_text(stdout, not);
			printf(")");
		}
		printf("\n");
		for (i = n = 0; i < s->nhits; i++) {
			if (s->hits[i].part != (enum score_part)p)
				continue;
			n++;
			points[0] = '+';
			score_format_points(s->hits[i].points, points + 1,
			    sizeof points - 1);
			printf("  %-*s %6s", (int)w, s->hits[i].name,
			    points[1] == '-' ? points + 1 : points);
			ctl_rules_why(ctl, rs, &s->hits[i],
			    b->asked ? &b->res : NULL, why, sizeof why);
			if (why[0] != '\0') {
				printf("  ");
				ctl_output_text(stdout, why);
			}
			printf("\n");
		}
		if (n == 0 && p != SCORE_BAYES)
			printf("  no %s hit\n", p == SCORE_RULE ? "rule" :
			    "check");
	}
}

/*
 * Ask the classifier as heinzeld would: the counts of the comment's
 * tokens from Redis.  Off with [bayes] enabled = no or --no-bayes.
 */
static void
ctl_rules_bayes(struct ctl *ctl, const struct comment *c, bool off,
    struct ctl_rules_bayes *b)
{
	struct store_cmd cmd;
	struct tokens t;
	const char *cause;
	redisReply *r;
	char *hint;

	memset(b, 0, sizeof *b);
	b->min_spam = ctl->cfg->bayes_min_spam;
	b->min_ham = ctl->cfg->bayes_min_ham;
	if (!ctl->cfg->bayes_enabled) {
		b->why = "off: [bayes] enabled = no";
		return;
	}
	if (off) {
		b->why = "not asked: --no-bayes";
		return;
	}
	/* Without Redis there is no scoring as heinzeld's: say how to go on. */
	if (strstr(ctl->redis_hint, "--no-bayes") == NULL) {
		hint = ctl->redis_hint;
		xasprintf(&ctl->redis_hint, "%s, or score without the "
		    "classifier: --no-bayes", hint);
		free(hint);
	}
	tokenize_init(&t);
	tokenize_comment(&t, c);
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&ctl->store, &cmd, NULL, &t);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	if (scoring_bayes_reply(ctl->cfg, r, &t, &b->res, &b->learned,
	    &cause) != 0)
		ctl_fatalx("Redis at %s: the classifier's counts: %s",
		    ctl->redis_name, cause);
	freeReplyObject(r);
	tokenize_free(&t);
	b->asked = true;
}

int
ctl_rules_test(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-bayes", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ctl->cfg->rules_dir, *path = "-";
	struct comment_limits lim;
	struct ctl_rules_bayes b;
	struct ruleset *rs;
	struct comment c;
	struct score s;
	struct fault f;
	enum verdict verdict;
	char *buf, *cause, *errors = NULL;
	size_t len;
	int ch, json = 0, rc;
	bool no_bayes = false;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'r')
			dir = optarg;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'B')
			no_bayes = true;
	}
	if (optind + 1 < argc)
		ctl_usage_errx(ctl, "one comment file at a time");
	if (optind < argc)
		path = argv[optind];
	if ((rs = ruleset_load(dir, &errors)) == NULL) {
		ctl_rules_errors(errors ? errors : "");
		free(errors);
		ctl_fatalx("rules test: %s: rules not loaded; see 'heinzelctl "
		    "rules check'", dir);
	}

	if ((buf = ctl_read_file(path, CTL_RULES_MAX_INPUT, &len,
	    &cause)) == NULL)
		ctl_fatalx("rules test: %s", cause);
	comment_init(&c);
	fault_clear(&f);
	rc = comment_from_json(&c, buf, len, &f);
	free(buf);
	if (rc != 0) {
		comment_free(&c);
		ruleset_unref(rs);
		ctl_fatalx("rules test: %s: %s%s%s", strcmp(path, "-") == 0 ?
		    "stdin" : path, f.field ? f.field : "", f.field ? ": " : "",
		    f.message);
	}
	/* Score what heinzeld would score, but a partial comment too. */
	lim.body_max_chars = ctl->cfg->body_max_chars;
	lim.captcha_required = false;
	if (comment_validate(&c, &lim, &f) != 0)
		ctl_warnx("rules test: note: %s%s%s (heinzeld would refuse "
		    "this comment)", f.field ? f.field : "",
		    f.field ? ": " : "", f.message);

	ctl_rules_bayes(ctl, &c, no_bayes, &b);
	score_init(&s);
	scoring_score(ctl->cfg, rs, &c, b.asked ? &b.res : NULL, &s);
	verdict = score_verdict(&s, ctl->cfg->hold_score,
	    ctl->cfg->reject_score);
	if (json)
		ctl_rules_report_json(ctl, rs, &s, verdict, &b);
	else
		ctl_rules_report(ctl, rs, &s, verdict, &b);
	score_free(&s);
	comment_free(&c);
	ruleset_unref(rs);
	return CTL_OK;
}

/* ---- rules stats: what the moderators' decisions say of each rule ---- */

/* One rule's counts, summed over the days asked for. */
struct ctl_rulestat {
	char *name;
	long long published, refused, over_hold, over_reject;
	bool in_set;		/* in the loaded rule set */
	bool spam_side;		/* its points push towards spam */
};

struct ctl_rulestats {
	struct ctl_rulestat *v;
	size_t n, cap;
	long long published, refused;	/* decided comments */
};

static struct ctl_rulestat *
ctl_rulestats_get(struct ctl_rulestats *st, const char *name)
{
	struct ctl_rulestat *r;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, name) == 0)
			return &st->v[i];
	if (st->n == st->cap)
		st->v = xreallocarray(st->v, st->cap = st->cap ? st->cap * 2 :
		    32, sizeof *st->v);
	r = &st->v[st->n++];
	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	return r;
}

/* Add one HGETALL reply of {P}:rulestats[:DAY]. */
static void
ctl_rulestats_add(struct ctl_rulestats *st, const redisReply *r)
{
	static const char *const kinds[] = { "published", "refused",
	    "over_hold", "over_reject" };
	struct ctl_rulestat *rs;
	const char *field, *sp;
	long long n, *slot;
	size_t i, k;

	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		field = r->element[i]->str;
		n = strtoll(r->element[i + 1]->str, NULL, 10);
		if ((sp = strchr(field, ' ')) == NULL) {
			if (strcmp(field, "published") == 0)
				st->published += n;
			else if (strcmp(field, "refused") == 0)
				st->refused += n;
			continue;
		}
		for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			if (strlen(kinds[k]) == (size_t)(sp - field) &&
			    strncmp(field, kinds[k], (size_t)(sp - field)) == 0)
				break;
		if (k == sizeof kinds / sizeof kinds[0])
			continue;
		rs = ctl_rulestats_get(st, sp + 1);
		slot = k == 0 ? &rs->published : k == 1 ? &rs->refused :
		    k == 2 ? &rs->over_hold : &rs->over_reject;
		*slot += n;
	}
}

static int
ctl_rulestats_cmp(const void *a, const void *b)
{
	const struct ctl_rulestat *x = a, *y = b;
	long long hx = x->published + x->refused, hy = y->published + y->refused;

	if (hx != hy)
		return hx > hy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Read the counts of the last days days (0: all time). */
static void
ctl_rulestats_read(struct ctl *ctl, unsigned long days,
    struct ctl_rulestats *st)
{
	unsigned long long today = clock_wall_ms() / 86400000ULL, d;
	redisReply *r;

	if (days == 0) {
		r = ctl_db_commandf(ctl, "HGETALL %s:rulestats",
		    ctl->store.tag);
		ctl_db_check(ctl, r, "reading the per-rule counts");
		ctl_rulestats_add(st, r);
		freeReplyObject(r);
		return;
	}
	for (d = today - days + 1; d <= today; d++) {
		r = ctl_db_commandf(ctl, "HGETALL %s:rulestats:%llu",
		    ctl->store.tag, d);
		ctl_db_check(ctl, r, "reading the per-rule counts");
		ctl_rulestats_add(st, r);
		freeReplyObject(r);
	}
}

/* Mark what the loaded rule set says; add its rules that never fired. */
static void
ctl_rulestats_rules(struct ctl_rulestats *st, const struct ruleset *rs)
{
	struct ctl_rulestat *r;
	struct rule_info ri;
	double points;
	size_t i;

	for (i = 0; i < st->n; i++) {
		/* Checks push towards spam; the classifier's bands either way. */
		st->v[i].spam_side = !bayes_band_points(st->v[i].name,
		    &points) || points > 0;
	}
	for (i = 0; rs != NULL && i < ruleset_count(rs); i++) {
		ruleset_rule(rs, i, &ri);
		r = ctl_rulestats_get(st, ri.name);
		r->in_set = true;
		r->spam_side = ri.score > 0;
	}
}

static bool
ctl_rulestat_hurts(const struct ctl_rulestat *r, unsigned long min_hits)
{
	long long hits = r->published + r->refused;

	return r->spam_side && hits > 0 && hits >= (long long)min_hits &&
	    r->refused * 2 < hits;
}

static bool
ctl_rulestat_idle(const struct ctl_rulestat *r)
{
	return r->in_set && r->published + r->refused == 0;
}

static void
ctl_rulestats_json(const struct ctl_rulestats *st, unsigned long days,
    unsigned long min_hits)
{
	const struct ctl_rulestat *r;
	json_t *rules, *flags;
	long long hits;
	size_t i;

	rules = json_array();
	for (i = 0; i < st->n; i++) {
		r = &st->v[i];
		hits = r->published + r->refused;
		flags = json_array();
		if (ctl_rulestat_hurts(r, min_hits))
			json_array_append_new(flags, json_string("hurts"));
		if (ctl_rulestat_idle(r))
			json_array_append_new(flags, json_string("never_fires"));
		json_array_append_new(rules, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:o, s:I, s:I, s:b, s:o}", "rule", r->name,
		    "hits", (json_int_t)hits,
		    "published", (json_int_t)r->published,
		    "refused", (json_int_t)r->refused,
		    "precision", hits ? json_real((double)r->refused /
		    (double)hits) : json_null(),
		    "over_hold", (json_int_t)r->over_hold,
		    "over_reject", (json_int_t)r->over_reject,
		    "in_rule_set", r->in_set, "flags", flags));
	}
	ctl_output_json(json_pack("{s:o, s:I, s:I, s:I, s:o}",
	    "since_days", days ? json_integer((json_int_t)days) : json_null(),
	    "min_hits", (json_int_t)min_hits,
	    "published", (json_int_t)st->published,
	    "refused", (json_int_t)st->refused, "rules", rules));
}

static void
ctl_rulestats_text(struct ctl *ctl, const struct ctl_rulestats *st,
    unsigned long days, unsigned long min_hits)
{
	const struct ctl_rulestat *r;
	char prec[16];
	long long hits;
	size_t i, w = 4;

	if (days)
		printf("decisions of the last %lu day%s: ", days,
		    days == 1 ? "" : "s");
	else
		printf("decisions: ");
	printf("%lld published, %lld refused\n", st->published, st->refused);
	if (st->n == 0) {
		printf("no rule hit a decided comment\n");
		return;
	}
	for (i = 0; i < st->n; i++)
		if (strlen(st->v[i].name) > w)
			w = strlen(st->v[i].name);
	printf("%s%-*s %6s %9s %7s %9s %9s %11s  %s%s\n",
	    ctl_color(ctl, CTL_BOLD), (int)w, "RULE", "HITS", "PUBLISHED",
	    "REFUSED", "PRECISION", "OVER_HOLD", "OVER_REJECT", "FLAGS",
	    ctl_color(ctl, CTL_RESET));
	for (i = 0; i < st->n; i++) {
		r = &st->v[i];
		hits = r->published + r->refused;
		if (hits)
			snprintf(prec, sizeof prec, "%.0f%%", 100.0 *
			    (double)r->refused / (double)hits);
		else
			snprintf(prec, sizeof prec, "-");
		printf("%-*s %6lld %9lld %7lld %9s %9lld %11lld", (int)w,
		    r->name, hits, r->published, r->refused, prec,
		    r->over_hold, r->over_reject);
		if (ctl_rulestat_hurts(r, min_hits))
			printf("  %shurts%s", ctl_color(ctl, CTL_RED),
			    ctl_color(ctl, CTL_RESET));
		if (ctl_rulestat_idle(r))
			printf("  %snever fires%s", ctl_color(ctl, CTL_YELLOW),
			    ctl_color(ctl, CTL_RESET));
		printf("\n");
	}
}

int
ctl_rules_stats(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "min-hits", required_argument, NULL, 'm' },
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_rulestats st;
	struct ruleset *rs;
	const char *dir = ctl->cfg->rules_dir;
	unsigned long days = 0, min_hits = 10;
	uint64_t ms;
	char *errors = NULL;
	size_t i;
	int ch, json = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 's') {
			ms = ctl_parse_duration(ctl, "--since", optarg);
			days = (unsigned long)((ms + 86400000 - 1) / 86400000);
			if (days == 0 || days > STORE_RULESTATS_DAYS)
				ctl_usage_errx(ctl, "--since %s: from 1d to "
				    "%dd (the per-day counts are kept that "
				    "long)", optarg, STORE_RULESTATS_DAYS);
		} else if (ch == 'm')
			min_hits = ctl_parse_number(ctl, "--min-hits", optarg,
			    1000000000UL);
		else if (ch == 'r')
			dir = optarg;
		else if (ch == 'j')
			json = 1;
	}
	if (optind < argc)
		ctl_usage_errx(ctl, "%s: unexpected argument", argv[optind]);
	if ((rs = ruleset_load(dir, &errors)) == NULL) {
		ctl_rules_errors(errors ? errors : "");
		free(errors);
		ctl_fatalx("rules stats: %s: rules not loaded; see 'heinzelctl "
		    "rules check'", dir);
	}
	memset(&st, 0, sizeof st);
	ctl_rulestats_read(ctl, days, &st);
	ctl_rulestats_rules(&st, rs);
	if (st.n > 1)
		qsort(st.v, st.n, sizeof *st.v, ctl_rulestats_cmp);
	if (json)
		ctl_rulestats_json(&st, days, min_hits);
	else
		ctl_rulestats_text(ctl, &st, days, min_hits);
	for (i = 0; i < st.n; i++)
		free(st.v[i].name);
	free(st.v);
	ruleset_unref(rs);
	return CTL_OK;
}

/* ---- rules replay: a candidate rule set against past decisions ---- */

#define CTL_REPLAY_BATCH 200	/* ids per read: memory stays bounded */

/* Verdict counts before (as stored) and after (rescored). */
struct ctl_replay_totals {
	unsigned long pub_hold;		/* published at or over hold_score */
	unsigned long pub_reject;	/* published at or over reject_score */
	unsigned long ref_missed;	/* refused under hold_score */
	unsigned long ref_reject;	/* refused at or over reject_score */
};

struct ctl_replay {
	struct ctl *ctl;
	struct ruleset *rs;
	bool no_bayes;
	json_t *changes;		/* --json: the changed comments */
	unsigned long published, refused;
	struct ctl_replay_totals before, after;
	unsigned long new_fp_hold, new_fp_reject, new_missed;
	char first_fp_reject[STORE_ID_LEN + 1];
};

/*
 * The comment as heinzeld scored it, from its hash: every field it keeps.
 * The honeypot's value is not kept; a stored HONEYPOT hit stands for it.
 */
static void
ctl_replay_comment(const struct ctl_comment *cc, struct comment *c)
{
	const redisReply *k, *v;
	size_t i;
	int f;

	comment_init(c);
	for (i = 0; i + 1 < cc->r->elements; i += 2) {
		k = cc->r->element[i];
		v = cc->r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if ((f = comment_field_lookup(k->str, k->len)) >= 0)
			comment_set(c, (enum comment_field)f, v->str, v->len);
	}
	if (ctl_comment_has_rule(cc, CHECK_HONEYPOT))
		comment_set(c, CF_HONEYPOT, "1", 1);
}

static void
ctl_replay_count(struct ctl_replay_totals *t, bool published, enum verdict v)
{
	if (published) {
		t->pub_hold += v != VERDICT_CLEAN;
		t->pub_reject += v == VERDICT_SPAM;
	} else {
		t->ref_missed += v == VERDICT_CLEAN;
		t->ref_reject += v == VERDICT_SPAM;
	}
}

/* Tell one comment whose verdict the candidate changes for the worse. */
static void
ctl_replay_report(struct ctl_replay *rp, const struct ctl_comment *cc,
    const char *what, const char *status, double was, const struct score *s)
{
	const char *body = ctl_comment_get(cc, "body");
	char a[32], b[32], *hits, *text;

	hits = score_hits_format(s);
	if (rp->changes != NULL) {
		json_array_append_new(rp->changes, json_pack("{s:s, s:s, s:s, "
		    "s:s?, s:f, s:f, s:s}", "change", what, "id", cc->id,
		    "status", status, "post", ctl_comment_get(cc, "post"),
		    "score_before", was, "score_after", s->total,
		    "hits", hits));
		free(hits);
		return;
	}
	score_format_points(was, a, sizeof a);
	score_format_points(s->total, b, sizeof b);
	text = ctl_output_fit(body ? body : "", 60);
	printf("%s: %s (%s, post ", what, cc->id, status);
	ctl_output_text(stdout, ctl_comment_get(cc, "post") ?
	    ctl_comment_get(cc, "post") : "?");
	printf("): score %s -> %s: %s\n  ", a, b, hits[0] ? hits : "no hit");
	ctl_output_text(stdout, text);
	printf("\n");
	free(text);
	free(hits);
}

/* Rescore one decided comment and compare. */
static void
ctl_replay_one(struct ctl_replay *rp, const char *id)
{
	const struct config *cfg = rp->ctl->cfg;
	struct ctl_rules_bayes b;
	struct ctl_comment *cc;
	struct comment c;
	struct score s, old;
	enum verdict v0, v1;
	const char *status, *score;
	bool published;

	if ((cc = ctl_db_comment(rp->ctl, id)) == NULL)
		return;		/* deleted since the queue was read */
	status = ctl_comment_get(cc, "status");
	score = ctl_comment_get(cc, "score");
	if (status == NULL || strcmp(status, "pending") == 0 ||
	    store_status_parse(status) < 0) {
		ctl_comment_free(cc);
		return;
	}
	published = strcmp(status, "approved") == 0;
	ctl_replay_comment(cc, &c);
	ctl_rules_bayes(rp->ctl, &c, rp->no_bayes, &b);
	score_init(&s);
	scoring_score(cfg, rp->rs, &c, b.asked ? &b.res : NULL, &s);
	score_init(&old);
	old.total = score ? strtod(score, NULL) : 0;
	v0 = score_verdict(&old, cfg->hold_score, cfg->reject_score);
	v1 = score_verdict(&s, cfg->hold_score, cfg->reject_score);
	if (published)
		rp->published++;
	else
		rp->refused++;
	ctl_replay_count(&rp->before, published, v0);
	ctl_replay_count(&rp->after, published, v1);
	if (published && v1 == VERDICT_SPAM && v0 != VERDICT_SPAM) {
		if (rp->new_fp_reject++ == 0)
			memcpy(rp->first_fp_reject, cc->id, sizeof cc->id);
		ctl_replay_report(rp, cc, "new false positive at reject",
		    status, old.total, &s);
	} else if (published && v1 == VERDICT_HOLD && v0 == VERDICT_CLEAN) {
		rp->new_fp_hold++;
		ctl_replay_report(rp, cc, "new false positive at hold",
		    status, old.total, &s);
	} else if (!published && v1 == VERDICT_CLEAN && v0 != VERDICT_CLEAN) {
		rp->new_missed++;
		ctl_replay_report(rp, cc, "new miss", status, old.total, &s);
	}
	score_free(&s);
	score_free(&old);
	comment_free(&c);
	ctl_comment_free(cc);
}

/*
 * Every comment of one queue created at or after since_ms, oldest first,
 * CTL_REPLAY_BATCH at a time.  The cursor is the last score read and how
 * many ids at that score were read already, so no comment is read twice
 * (ZSCAN may return one twice and cannot start at a time).
 */
static void
ctl_replay_queue(struct ctl_replay *rp, enum store_status q, uint64_t since_ms)
{
	struct ctl *ctl = rp->ctl;
	long long at = (long long)since_ms, sc;
	unsigned long skip = 0;
	redisReply *r;
	size_t i, n;

	for (;;) {
		r = ctl_db_commandf(ctl, "ZRANGEBYSCORE %s:queue:%s %lld +inf "
		    "WITHSCORES LIMIT %lu %d", ctl->store.tag,
		    store_status_name(q), at, skip, CTL_REPLAY_BATCH);
		ctl_db_check(ctl, r, "reading a queue");
		if (r->type != REDIS_REPLY_ARRAY)
			ctl_fatalx("Redis at %s: reading a queue: unexpected "
			    "reply", ctl->redis_name);
		n = r->elements / 2;
		for (i = 0; i < n; i++) {
			if (r->element[2 * i]->type != REDIS_REPLY_STRING ||
			    r->element[2 * i + 1]->type != REDIS_REPLY_STRING)
				continue;
			sc = strtoll(r->element[2 * i + 1]->str, NULL, 10);
			if (sc == at)
				skip++;
			else {
				at = sc;
				skip = 1;
			}
			if (store_id_valid(r->element[2 * i]->str))
				ctl_replay_one(rp, r->element[2 * i]->str);
		}
		freeReplyObject(r);
		if (n < CTL_REPLAY_BATCH)
			break;
	}
}

static json_t *
ctl_replay_totals_json(const struct ctl_replay_totals *t)
{
	return json_pack("{s:I, s:I, s:I, s:I}",
	    "published_over_hold", (json_int_t)t->pub_hold,
	    "published_over_reject", (json_int_t)t->pub_reject,
	    "refused_under_hold", (json_int_t)t->ref_missed,
	    "refused_at_reject", (json_int_t)t->ref_reject);
}

int
ctl_rules_replay(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 's' },
		{ "no-bayes", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const enum store_status queues[] = { STORE_APPROVED,
	    STORE_REJECTED, STORE_SPAM };
	const char *dir = ctl->cfg->rules_dir;
	struct ctl_replay rp;
	uint64_t since = 0, now;
	char *errors = NULL;
	size_t i;
	int ch, json = 0;

	memset(&rp, 0, sizeof rp);
	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'r')
			dir = optarg;
		else if (ch == 's') {
			if ((since = ctl_parse_duration(ctl, "--since",
			    optarg)) == 0)
				ctl_usage_errx(ctl, "--since %s: expected a "
				    "duration such as 30d", optarg);
		} else if (ch == 'B')
			rp.no_bayes = true;
		else if (ch == 'j')
			json = 1;
	}
	if (optind < argc)
		ctl_usage_errx(ctl, "%s: unexpected argument", argv[optind]);
	if ((rp.rs = ruleset_load(dir, &errors)) == NULL) {
		ctl_rules_errors(errors ? errors : "");
		free(errors);
		ctl_fatalx("rules replay: %s: rules not loaded; see 'heinzelctl "
		    "rules check'", dir);
	}
	rp.ctl = ctl;
	if (json)
		rp.changes = json_array();
	now = clock_wall_ms();
	for (i = 0; i < sizeof queues / sizeof queues[0]; i++)
		ctl_replay_queue(&rp, queues[i], since && since < now ?
		    now - since : 0);
	if (json) {
		ctl_output_json(json_pack("{s:s, s:f, s:f, s:I, s:I, s:o, "
		    "s:o, s:I, s:I, s:I, s:o}", "rules", dir,
		    "hold_score", ctl->cfg->hold_score,
		    "reject_score", ctl->cfg->reject_score,
		    "published", (json_int_t)rp.published,
		    "refused", (json_int_t)rp.refused,
		    "before", ctl_replay_totals_json(&rp.before),
		    "after", ctl_replay_totals_json(&rp.after),
		    "new_false_positives_at_reject",
		    (json_int_t)rp.new_fp_reject,
		    "new_false_positives_at_hold", (json_int_t)rp.new_fp_hold,
		    "new_misses", (json_int_t)rp.new_missed,
		    "changes", rp.changes));
	} else {
		printf("replayed %lu decided comments (%lu published, %lu "
		    "refused) with %s, hold_score %g, reject_score %g\n",
		    rp.published + rp.refused, rp.published, rp.refused, dir,
		    ctl->cfg->hold_score, ctl->cfg->reject_score);
		printf("%-24s %8s %8s\n", "", "before", "after");
		printf("%-24s %8lu %8lu\n", "published over hold",
		    rp.before.pub_hold, rp.after.pub_hold);
		printf("%-24s %8lu %8lu\n", "published over reject",
		    rp.before.pub_reject, rp.after.pub_reject);
		printf("%-24s %8lu %8lu\n", "refused under hold",
		    rp.before.ref_missed, rp.after.ref_missed);
		printf("%-24s %8lu %8lu\n", "refused at reject",
		    rp.before.ref_reject, rp.after.ref_reject);
		printf("new false positives: %lu at reject, %lu at hold; new "
		    "misses: %lu\n", rp.new_fp_reject, rp.new_fp_hold,
		    rp.new_missed);
	}
	ruleset_unref(rp.rs);
	if (rp.new_fp_reject > 0) {
		ctl_warnx("rules replay: %s would refuse %lu published "
		    "comment%s (first %s)", dir, rp.new_fp_reject,
		    rp.new_fp_reject == 1 ? "" : "s", rp.first_fp_reject);
		return CTL_GATE;
	}
	return CTL_OK;
}
