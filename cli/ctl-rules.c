/*
 * rules check and rules test: the rule set as heinzeld loads it, without
 * a running heinzeld or Redis.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "comment.h"
#include "config.h"
#include "ctl.h"
#include "fault.h"
#include "rules.h"
#include "score.h"
#include "xmalloc.h"

#define CTL_RULES_MAX_INPUT (16 * 1024 * 1024)

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

static void
ctl_rules_report_json(struct ctl *ctl, const struct ruleset *rs,
    const struct score *s, enum verdict verdict)
{
	const char *desc;
	json_t *hits;
	size_t i;

	hits = json_array();
	for (i = 0; i < s->nhits; i++) {
		desc = ctl_rules_find(rs, s->hits[i].name);
		json_array_append_new(hits, json_pack("{s:s, s:f, s:i, s:s}",
		    "rule", s->hits[i].name, "points", s->hits[i].points,
		    "count", (int)s->hits[i].count,
		    "description", desc ? desc : ""));
	}
	ctl_output_json(json_pack("{s:f, s:s, s:f, s:f, s:o}",
	    "total", s->total, "verdict", verdict_name(verdict),
	    "hold_score", ctl->cfg->hold_score,
	    "reject_score", ctl->cfg->reject_score, "hits", hits));
}

static void
ctl_rules_report(struct ctl *ctl, const struct ruleset *rs,
    const struct score *s, enum verdict verdict)
{
	const char *desc;
	char points[32];
	size_t i, w = 4;

	score_format_points(s->total, points, sizeof points);
	printf("score %s%s%s: %s%s%s (hold_score %g, reject_score %g)\n",
	    ctl_score_color(ctl, s->total), points, ctl_color(ctl, CTL_RESET),
	    ctl_color(ctl, CTL_BOLD), verdict_name(verdict),
	    ctl_color(ctl, CTL_RESET), ctl->cfg->hold_score,
	    ctl->cfg->reject_score);
	for (i = 0; i < s->nhits; i++)
		if (strlen(s->hits[i].name) > w)
			w = strlen(s->hits[i].name);
	for (i = 0; i < s->nhits; i++) {
		points[0] = '+';
		score_format_points(s->hits[i].points, points + 1,
		    sizeof points - 1);
		printf("  %-*s %6s", (int)w, s->hits[i].name,
		    points[1] == '-' ? points + 1 : points);
		if (s->hits[i].count > 1)
			printf(" x%u", s->hits[i].count);
		desc = ctl_rules_find(rs, s->hits[i].name);
		if (desc != NULL && desc[0] != '\0') {
			printf("  ");
			ctl_output_text(stdout, desc);
		}
		printf("\n");
	}
	if (s->nhits == 0)
		printf("  no rule hit\n");
}

int
ctl_rules_test(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ctl->cfg->rules_dir, *path = "-";
	struct comment_limits lim;
	struct ruleset *rs;
	struct comment c;
	struct score s;
	struct fault f;
	enum verdict verdict;
	char *buf, *errors = NULL;
	size_t len;
	int ch, json = 0, rc;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'r')
			dir = optarg;
		else if (ch == 'j')
			json = 1;
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

	score_init(&s);
	ruleset_score(rs, &c, &s);
	verdict = score_verdict(&s, ctl->cfg->hold_score,
	    ctl->cfg->reject_score);
	if (json)
		ctl_rules_report_json(ctl, rs, &s, verdict);
	else
		ctl_rules_report(ctl, rs, &s, verdict);
	score_free(&s);
	comment_free(&c);
	ruleset_unref(rs);
	return CTL_OK;
}
