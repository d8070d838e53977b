/*
 * rules check and rules test: the rule set as heinzeld loads it, without
 * a running heinzeld.  rules test scores as heinzeld does (scoring.h):
 * rules, built-in checks and the classifier, whose counts it reads from
 * Redis unless told not to.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "bayes_store.h"
#include "checks.h"
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

/* The whole of FILE, or stdin for "-". */
static char *
ctl_rules_read(const char *path, size_t *len)
{
	FILE *fp = stdin;
	size_t cap = 4096, n;
	char *buf;

	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL)
		ctl_fatalx("rules test: %s: %s", path, strerror(errno));
	buf = xmalloc(cap);
	*len = 0;
	while ((n = fread(buf + *len, 1, cap - *len, fp)) > 0) {
		*len += n;
		if (*len > CTL_RULES_MAX_INPUT)
			ctl_fatalx("rules test: %s: more than %d bytes", path,
			    CTL_RULES_MAX_INPUT);
		if (*len == cap)
			buf = xreallocarray(buf, cap *= 2, 1);
	}
	if (ferror(fp))
		ctl_fatalx("rules test: %s: %s", path, strerror(errno));
	if (fp != stdin)
		fclose(fp);
	return buf;
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
	hint = ctl->redis_hint;
	xasprintf(&ctl->redis_hint, "%s, or score without the classifier: "
	    "--no-bayes", hint);
	free(hint);
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
	char *buf, *errors = NULL;
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

	buf = ctl_rules_read(path, &len);
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
