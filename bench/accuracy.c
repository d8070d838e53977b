/*
 * accuracy: how well heinzel's scoring separates spam from real comments,
 * measured on labelled CSV files (COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS).
 *
 * The scoring is the daemon's own: ruleset_load() and ruleset_score(),
 * checks_score(), the tokenizer and the Bayes maths over counts held in
 * memory.  Cross-validation across files: for each file, Bayes is trained
 * on all the other files and the held-out file is scored, once with rules
 * and checks alone and once with Bayes added.  A third pass ("online")
 * also trains Bayes with each held-out comment, in file order, once it is
 * scored: what learning from every moderation decision would give.
 *
 *	accuracy [--rules DIR] [--config FILE] [--hold N] [--reject N]
 *	    [--slice N] [--curve N,N...] [--json] [--dump] FILE.csv...
 *
 * --curve adds the learning curve: for each N, Bayes is trained on the
 * first N comments of the other files only (N moderation decisions, taken
 * from the files in turn, each in its order) and the held-out file scored.
 *
 * --dump prints one line per comment instead of the report: file, class,
 * rules total, Bayes probability, total with Bayes, hits, text.  For
 * experiments: --bayes-min N (messages of each class before Bayes
 * scores), --bayes-s, --bayes-x, --bayes-min-dev.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "bayes.h"
#include "checks.h"
#include "comment.h"
#include "config.h"
#include "corpus.h"
#include "log.h"
#include "rules.h"
#include "score.h"
#include "tokenize.h"
#include "utf8.h"
#include "xmalloc.h"

enum { MODE_RULES, MODE_BAYES, MODE_ONLINE, MODE__COUNT };
enum { AT_HOLD, AT_REJECT, AT__COUNT };

static const char *const accuracy_modes[MODE__COUNT] = { "rules", "bayes", "online" };
static const char *const accuracy_ats[AT__COUNT] = { "hold", "reject" };

/* One comment as a blog would have received it. */
struct sample {
	struct comment c;
	struct tokens t;
	int spam;
	int file;
};

/* Spam and ham at or over one threshold. */
struct tally {
	unsigned long spam, ham;		/* comments of each class */
	unsigned long tp[AT__COUNT];		/* spam at or over */
	unsigned long fp[AT__COUNT];		/* ham at or over */
};

/* What each rule does to ham and spam. */
struct rulestat {
	char *name;
	unsigned long spam, ham;	/* comments hit */
	unsigned long fp[AT__COUNT];	/* ham hit that reached the threshold, rules alone */
	unsigned long fpb[AT__COUNT];	/* the same with Bayes */
};

struct accuracy {
	struct config *cfg;
	struct ruleset *rs;
	struct bayes_params bp;
	double thr[AT__COUNT];
	struct sample *s;
	size_t n, cap;
	char **files;
	int nfiles;
	struct tally (*tally)[MODE__COUNT];	/* per file */
	struct rulestat *rules;
	size_t nrules, caprules;
	unsigned long skipped;
	int dump;
	size_t *first, *count;			/* each file's samples */
	size_t *curve;				/* decisions, ascending */
	size_t ncurve;
	struct tally *curve_tally;		/* [file * ncurve + j] */
	struct bayes_counts *curve_trained;	/* what Bayes saw there */
};

static void __attribute__((noreturn))
accuracy_usage(void)
{
	fprintf(stderr, "usage: accuracy [--rules DIR] [--config FILE] "
	    "[--hold N] [--reject N] [--slice N] [--curve N,N...]\n"
	    "    [--json] [--dump]\n"
	    "    [--bayes-min N] [--bayes-s S] [--bayes-x X] [--bayes-min-dev D] "
	    "FILE.csv...\n");
	exit(2);
}

/* ---- the corpus, as a blog would receive it ---- */

/*
 * The YouTube export holds HTML: links turned into <a> tags, line breaks
 * as <br />, quotes and ampersands as entities, and a trailing U+FEFF.  A
 * reader typing into a blog's form sends none of that: keep the text of
 * tags, make <br> a line break, decode entities, drop the U+FEFF.
 */
static char *
accuracy_unhtml(const char *in, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + 1), *end;
	size_t i = 0, o = 0, j;
	unsigned long cp;

	while (i < len) {
		if (in[i] == '<' && i + 1 < len && (in[i + 1] == '/' ||
		    (in[i + 1] >= 'a' && in[i + 1] <= 'z'))) {
			for (j = i + 1; j < len && in[j] != '>' && in[j] != '<'; j++)
				;
			if (j < len && in[j] == '>') {
				if (strncasecmp(in + i, "<br", 3) == 0)
					out[o++] = '\n';
				i = j + 1;
				continue;
			}
		}
		out[o++] = in[i++];
	}
	len = o;
	/* Entities: decoded text is never longer than its entity. */
	for (i = 0, o = 0; i < len;) {
		if (out[i] == '&') {
			cp = 0;
			end = NULL;
			if (strncmp(out + i, "&amp;", 5) == 0)
				cp = '&', end = out + i + 5;
			else if (strncmp(out + i, "&lt;", 4) == 0)
				cp = '<', end = out + i + 4;
			else if (strncmp(out + i, "&gt;", 4) == 0)
				cp = '>', end = out + i + 4;
			else if (strncmp(out + i, "&quot;", 6) == 0)
				cp = '"', end = out + i + 6;
			else if (strncmp(out + i, "&apos;", 6) == 0)
				cp = '\'', end = out + i + 6;
			else if (strncmp(out + i, "&nbsp;", 6) == 0)
				cp = ' ', end = out + i + 6;
			else if (i + 2 < len && out[i + 1] == '#') {
				errno = 0;
				if (out[i + 2] == 'x' || out[i + 2] == 'X')
					cp = strtoul(out + i + 3, &end, 16);
				else
					cp = strtoul(out + i + 2, &end, 10);
				if (errno != 0 || *end != ';' || cp == 0 ||
				    cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
					end = NULL;
				else
					end++;
			}
			if (end != NULL) {
				o += utf8_encode(cp, out + o);
				i = (size_t)(end - out);
				continue;
			}
		}
		out[o++] = out[i++];
	}
	len = o;
	/* Trailing U+FEFF and white space. */
	for (;;) {
		if (len >= 3 && memcmp(out + len - 3, "\xef\xbb\xbf", 3) == 0)
			len -= 3;
		else if (len > 0 && strchr(" \t\r\n", out[len - 1]) != NULL)
			len--;
		else
			break;
	}
	out[len] = '\0';
	*outlen = len;
	return out;
}

static void
accuracy_load(struct accuracy *a, const char *path, int file, size_t slice)
{
	struct corpus corpus;
	struct sample *s;
	char *cause, *body, *author, *copy, *post;
	size_t i, blen, alen, taken = 0;

	corpus_init(&corpus);
	if (corpus_load(&corpus, path, &cause) != 0) {
		fprintf(stderr, "accuracy: %s\n", cause);
		exit(1);
	}
	copy = xstrdup(path);
	post = basename(copy);
	for (i = 0; i < corpus.n && (slice == 0 || taken < slice); i++) {
		body = accuracy_unhtml(corpus.v[i].text, corpus.v[i].text_len, &blen);
		author = accuracy_unhtml(corpus.v[i].author,
		    strlen(corpus.v[i].author), &alen);
		/* What the daemon would refuse with a 422 never gets scored. */
		if (blen == 0 || !utf8_valid_text(body, blen, true) ||
		    alen == 0 || !utf8_valid_text(author, alen, false)) {
			a->skipped++;
			free(body);
			free(author);
			continue;
		}
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 1024;
			a->s = xreallocarray(a->s, a->cap, sizeof *a->s);
		}
		s = &a->s[a->n++];
		comment_init(&s->c);
		comment_set(&s->c, CF_POST, post, strlen(post));
		comment_set(&s->c, CF_AUTHOR, author, alen);
		comment_set(&s->c, CF_BODY, body, blen);
		tokenize_init(&s->t);
		tokenize_comment(&s->t, &s->c);
		s->spam = corpus.v[i].spam;
		s->file = file;
		taken++;
		free(body);
		free(author);
	}
	free(copy);
	corpus_free(&corpus);
}

/* ---- scoring ---- */

/* Rules and built-in checks, as heinzeld scores before Bayes. */
static void
accuracy_score_rules(struct accuracy *a, const struct sample *s, struct score *sc)
{
	score_init(sc);
	ruleset_score(a->rs, &s->c, sc);
	checks_score(a->cfg, &s->c, sc);
}

static struct rulestat *
accuracy_rulestat(struct accuracy *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i].name, name) == 0)
			return &a->rules[i];
	if (a->nrules == a->caprules) {
		a->caprules = a->caprules ? a->caprules * 2 : 64;
		a->rules = xreallocarray(a->rules, a->caprules, sizeof *a->rules);
	}
	memset(&a->rules[a->nrules], 0, sizeof a->rules[0]);
	a->rules[a->nrules].name = xstrdup(name);
	return &a->rules[a->nrules++];
}

static void
accuracy_count(struct accuracy *a, struct tally *t, int spam, double total)
{
	int k;

	if (spam)
		t->spam++;
	else
		t->ham++;
	for (k = 0; k < AT__COUNT; k++) {
		if (total < a->thr[k])
			continue;
		if (spam)
			t->tp[k]++;
		else
			t->fp[k]++;
	}
}

static void
accuracy_dump_hits(const struct score *sc)
{
	char *hits = score_hits_format(sc);

	printf("\t%s", hits);
	free(hits);
}

/* The body on one line: line breaks and tabs as spaces. */
static void
accuracy_dump_text(const char *s)
{
	putchar('\t');
	for (; *s != '\0'; s++)
		putchar(*s == '\n' || *s == '\t' || *s == '\r' ? ' ' : *s);
	putchar('\n');
}

/*
 * Score the samples of file f with Bayes trained on every other file; live
 * starts the same and learns each sample after scoring it.
 */
static void
accuracy_fold(struct accuracy *a, int f)
{
	struct bayes_mem *mem = bayes_mem_new(), *live = bayes_mem_new();
	struct bayes_counts counts, lcounts;
	struct bayes_result br, lr;
	struct rulestat *rst;
	struct sample *s;
	struct score sc;
	double rules_total, points;
	size_t i, h;
	int k;

	for (i = 0; i < a->n; i++) {
		if (a->s[i].file == f)
			continue;
		bayes_mem_learn(mem, &a->s[i].t, a->s[i].spam, 1);
		bayes_mem_learn(live, &a->s[i].t, a->s[i].spam, 1);
	}
	bayes_mem_counts(mem, &counts);
	for (i = 0; i < a->n; i++) {
		s = &a->s[i];
		if (s->file != f)
			continue;
		accuracy_score_rules(a, s, &sc);
		rules_total = sc.total;
		accuracy_count(a, &a->tally[f][MODE_RULES], s->spam, rules_total);
		for (h = 0; h < sc.nhits; h++) {
			rst = accuracy_rulestat(a, sc.hits[h].name);
			if (s->spam) {
				rst->spam++;
				continue;
			}
			rst->ham++;
			for (k = 0; k < AT__COUNT; k++)
				if (rules_total >= a->thr[k] && sc.hits[h].points > 0)
					rst->fp[k]++;
		}
		bayes_mem_counts(live, &lcounts);
		bayes_classify(&a->bp, &lcounts, &s->t, bayes_mem_lookup_cb, live, &lr);
		if (!lr.ready || bayes_band(lr.prob, &points) == NULL)
			points = 0;
		accuracy_count(a, &a->tally[f][MODE_ONLINE], s->spam,
		    rules_total + points);
		bayes_mem_learn(live, &s->t, s->spam, 1);
		bayes_classify(&a->bp, &counts, &s->t, bayes_mem_lookup_cb, mem, &br);
		bayes_score(&br, &sc);
		accuracy_count(a, &a->tally[f][MODE_BAYES], s->spam, sc.total);
		for (h = 0; h < sc.nhits; h++) {
			rst = accuracy_rulestat(a, sc.hits[h].name);
			/* The BAYES_* hit is the one not counted above. */
			if (strncmp(sc.hits[h].name, BAYES_PSEUDO_PREFIX,
			    strlen(BAYES_PSEUDO_PREFIX)) == 0) {
				if (s->spam)
					rst->spam++;
				else
					rst->ham++;
			}
			if (s->spam || sc.hits[h].points <= 0)
				continue;
			for (k = 0; k < AT__COUNT; k++)
				if (sc.total >= a->thr[k])
					rst->fpb[k]++;
		}
		if (a->dump) {
			printf("%s\t%d\t%g\t%.4f\t%g", a->files[f], s->spam,
			    rules_total, br.prob, sc.total);
			accuracy_dump_hits(&sc);
			accuracy_dump_text(s->c.field[CF_BODY]);
		}
		score_free(&sc);
	}
	bayes_mem_free(mem);
	bayes_mem_free(live);
}

/*
 * The learning curve for file f: Bayes trained on the first n decisions
 * of the other files, one comment of each file in turn, each file in its
 * (date) order, as a moderator deciding the comments of several posts
 * would train it; then the held-out file scored.  Fewer than n when the
 * other files hold fewer.
 */
static void
accuracy_curve_fold(struct accuracy *a, int f, size_t n, struct tally *t,
    struct bayes_counts *trained)
{
	struct bayes_mem *mem = bayes_mem_new();
	struct bayes_result br;
	struct sample *s;
	struct score sc;
	size_t i, round, learned = 0;
	bool more = true;
	int g;

	for (round = 0; more && learned < n; round++) {
		more = false;
		for (g = 0; g < a->nfiles && learned < n; g++) {
			if (g == f || round >= a->count[g])
				continue;
			s = &a->s[a->first[g] + round];
			bayes_mem_learn(mem, &s->t, s->spam, 1);
			learned++;
			more = true;
		}
	}
	bayes_mem_counts(mem, trained);
	for (i = a->first[f]; i < a->first[f] + a->count[f]; i++) {
		s = &a->s[i];
		accuracy_score_rules(a, s, &sc);
		bayes_classify(&a->bp, trained, &s->t, bayes_mem_lookup_cb, mem, &br);
		bayes_score(&br, &sc);
		accuracy_count(a, t, s->spam, sc.total);
		score_free(&sc);
	}
	bayes_mem_free(mem);
}

/* ---- the report ---- */

static double
accuracy_ratio(unsigned long num, unsigned long den)
{
	return den == 0 ? 0 : (double)num / (double)den;
}

static json_t *
accuracy_tally_json(const struct accuracy *a, const struct tally *t)
{
	json_t *o = json_object(), *at;
	int k;

	json_object_set_new(o, "spam", json_integer((json_int_t)t->spam));
	json_object_set_new(o, "ham", json_integer((json_int_t)t->ham));
	for (k = 0; k < AT__COUNT; k++) {
		at = json_object();
		json_object_set_new(at, "threshold", json_real(a->thr[k]));
		json_object_set_new(at, "tp", json_integer((json_int_t)t->tp[k]));
		json_object_set_new(at, "fp", json_integer((json_int_t)t->fp[k]));
		json_object_set_new(at, "fn",
		    json_integer((json_int_t)(t->spam - t->tp[k])));
		json_object_set_new(at, "tn",
		    json_integer((json_int_t)(t->ham - t->fp[k])));
		json_object_set_new(at, "precision",
		    json_real(accuracy_ratio(t->tp[k], t->tp[k] + t->fp[k])));
		json_object_set_new(at, "recall",
		    json_real(accuracy_ratio(t->tp[k], t->spam)));
		json_object_set_new(at, "fp_rate",
		    json_real(accuracy_ratio(t->fp[k], t->ham)));
		json_object_set_new(o, accuracy_ats[k], at);
	}
	return o;
}

static void
accuracy_tally_add(struct tally *sum, const struct tally *t)
{
	int k;

	sum->spam += t->spam;
	sum->ham += t->ham;
	for (k = 0; k < AT__COUNT; k++) {
		sum->tp[k] += t->tp[k];
		sum->fp[k] += t->fp[k];
	}
}

static int
accuracy_rule_cmp(const void *x, const void *y)
{
	const struct rulestat *a = x, *b = y;

	if (a->fp[AT_REJECT] + a->fpb[AT_REJECT] != b->fp[AT_REJECT] + b->fpb[AT_REJECT])
		return a->fp[AT_REJECT] + a->fpb[AT_REJECT] >
		    b->fp[AT_REJECT] + b->fpb[AT_REJECT] ? -1 : 1;
	if (a->fp[AT_HOLD] + a->fpb[AT_HOLD] != b->fp[AT_HOLD] + b->fpb[AT_HOLD])
		return a->fp[AT_HOLD] + a->fpb[AT_HOLD] >
		    b->fp[AT_HOLD] + b->fpb[AT_HOLD] ? -1 : 1;
	if (a->ham != b->ham)
		return a->ham > b->ham ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* One point of the curve: its tally and what Bayes was trained on. */
static json_t *
accuracy_point_json(const struct accuracy *a, const struct tally *t,
    const struct bayes_counts *c)
{
	json_t *o = accuracy_tally_json(a, t);

	json_object_set_new(o, "trained_spam", json_integer((json_int_t)c->nspam));
	json_object_set_new(o, "trained_ham", json_integer((json_int_t)c->nham));
	return o;
}

static json_t *
accuracy_curve_json(const struct accuracy *a)
{
	json_t *curve = json_array(), *pt, *files, *f;
	struct bayes_counts sumc;
	struct tally sum;
	size_t j, at;
	int k;

	for (j = 0; j < a->ncurve; j++) {
		pt = json_object();
		files = json_array();
		memset(&sum, 0, sizeof sum);
		memset(&sumc, 0, sizeof sumc);
		json_object_set_new(pt, "decisions", json_integer((json_int_t)a->curve[j]));
		for (k = 0; k < a->nfiles; k++) {
			at = (size_t)k * a->ncurve + j;
			f = accuracy_point_json(a, &a->curve_tally[at], &a->curve_trained[at]);
			json_object_set_new(f, "file", json_string(a->files[k]));
			json_array_append_new(files, f);
			accuracy_tally_add(&sum, &a->curve_tally[at]);
		}
		json_object_set_new(pt, "files", files);
		json_object_set_new(pt, "overall", accuracy_tally_json(a, &sum));
		json_array_append_new(curve, pt);
	}
	return curve;
}

static void
accuracy_json(struct accuracy *a, const struct tally *all)
{
	json_t *root = json_object(), *files = json_array(), *f, *rules;
	json_t *r;
	size_t i;
	int m, k;

	for (k = 0; k < a->nfiles; k++) {
		f = json_object();
		json_object_set_new(f, "file", json_string(a->files[k]));
		for (m = 0; m < MODE__COUNT; m++)
			json_object_set_new(f, accuracy_modes[m],
			    accuracy_tally_json(a, &a->tally[k][m]));
		json_array_append_new(files, f);
	}
	json_object_set_new(root, "files", files);
	f = json_object();
	for (m = 0; m < MODE__COUNT; m++)
		json_object_set_new(f, accuracy_modes[m], accuracy_tally_json(a, &all[m]));
	json_object_set_new(root, "overall", f);
	rules = json_array();
	for (i = 0; i < a->nrules; i++) {
		r = json_object();
		json_object_set_new(r, "rule", json_string(a->rules[i].name));
		json_object_set_new(r, "spam_hits", json_integer((json_int_t)a->rules[i].spam));
		json_object_set_new(r, "ham_hits", json_integer((json_int_t)a->rules[i].ham));
		json_object_set_new(r, "fp_hold", json_integer((json_int_t)a->rules[i].fp[AT_HOLD]));
		json_object_set_new(r, "fp_reject", json_integer((json_int_t)a->rules[i].fp[AT_REJECT]));
		json_object_set_new(r, "fp_hold_bayes", json_integer((json_int_t)a->rules[i].fpb[AT_HOLD]));
		json_object_set_new(r, "fp_reject_bayes", json_integer((json_int_t)a->rules[i].fpb[AT_REJECT]));
		json_array_append_new(rules, r);
	}
	json_object_set_new(root, "rules", rules);
	if (a->ncurve > 0)
		json_object_set_new(root, "curve", accuracy_curve_json(a));
	json_object_set_new(root, "skipped", json_integer((json_int_t)a->skipped));
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
}

static void
accuracy_text_line(const struct accuracy *a, const char *name, const char *mode,
    const struct tally *t)
{
	int k;

	printf("%-24s %-6s %5lu %5lu", name, mode, t->spam, t->ham);
	for (k = 0; k < AT__COUNT; k++)
		printf("   %6.1f%% %6.1f%% %6.2f%%",
		    100 * accuracy_ratio(t->tp[k], t->tp[k] + t->fp[k]),
		    100 * accuracy_ratio(t->tp[k], t->spam),
		    100 * accuracy_ratio(t->fp[k], t->ham));
	(void)a;
	putchar('\n');
}

static void
accuracy_curve_text(const struct accuracy *a)
{
	const struct bayes_counts *c;
	struct tally sum;
	char trained[48];
	size_t j, at;
	int k;

	printf("\nlearning curve: Bayes trained on the first N decisions of the "
	    "other files (spam+ham\ntrained), the held-out file scored with "
	    "rules, checks and Bayes:\n");
	printf("N      trained   held-out file             mode    spam   ham   "
	    "hold %-4g: prec  recall  FP rate   reject %-4g: prec recall FP rate\n",
	    a->thr[AT_HOLD], a->thr[AT_REJECT]);
	for (j = 0; j < a->ncurve; j++) {
		memset(&sum, 0, sizeof sum);
		for (k = 0; k < a->nfiles; k++) {
			at = (size_t)k * a->ncurve + j;
			c = &a->curve_trained[at];
			snprintf(trained, sizeof trained, "%lu+%lu", c->nspam, c->nham);
			printf("%-6zu %-9s ", a->curve[j], trained);
			accuracy_text_line(a, a->files[k], "bayes", &a->curve_tally[at]);
			accuracy_tally_add(&sum, &a->curve_tally[at]);
		}
		printf("%-6zu %-9s ", a->curve[j], "");
		accuracy_text_line(a, "overall", "bayes", &sum);
	}
}

static void
accuracy_text(struct accuracy *a, const struct tally *all)
{
	size_t i;
	int m, k;

	printf("held-out file             mode    spam   ham   "
	    "hold %-4g: prec  recall  FP rate   reject %-4g: prec recall FP rate\n",
	    a->thr[AT_HOLD], a->thr[AT_REJECT]);
	for (k = 0; k < a->nfiles; k++)
		for (m = 0; m < MODE__COUNT; m++)
			accuracy_text_line(a, a->files[k], accuracy_modes[m],
			    &a->tally[k][m]);
	for (m = 0; m < MODE__COUNT; m++)
		accuracy_text_line(a, "overall", accuracy_modes[m], &all[m]);
	if (a->skipped > 0)
		printf("(%lu comments skipped: empty or not valid text)\n", a->skipped);
	printf("\nrules hitting real comments: how many, and how many of those "
	    "reached hold_score\nand reject_score, with rules and checks "
	    "alone and with Bayes:\n");
	printf("%-28s %6s %6s %8s %10s %8s %10s\n", "rule", "spam", "ham",
	    "FP hold", "FP reject", "+Bayes", "+Bayes");
	for (i = 0; i < a->nrules; i++) {
		if (a->rules[i].ham == 0)
			continue;
		printf("%-28s %6lu %6lu %8lu %10lu %8lu %10lu\n",
		    a->rules[i].name, a->rules[i].spam, a->rules[i].ham,
		    a->rules[i].fp[AT_HOLD], a->rules[i].fp[AT_REJECT],
		    a->rules[i].fpb[AT_HOLD], a->rules[i].fpb[AT_REJECT]);
	}
	if (a->ncurve > 0)
		accuracy_curve_text(a);
}

static double
accuracy_number(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s) {
		fprintf(stderr, "accuracy: %s: not a number: %s\n", what, s);
		exit(2);
	}
	return v;
}

/* --curve 50,100,300,1000: decisions, ascending. */
static void
accuracy_parse_curve(struct accuracy *a, const char *list)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	double v;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = accuracy_number(tok, "--curve");
		if (v < 1 || v > 1e7 || v != (double)(size_t)v ||
		    (a->ncurve > 0 && (size_t)v <= a->curve[a->ncurve - 1])) {
			fprintf(stderr, "accuracy: --curve: not a whole number "
			    "above the one before: %s\n", tok);
			exit(2);
		}
		a->curve = xreallocarray(a->curve, a->ncurve + 1, sizeof *a->curve);
		a->curve[a->ncurve++] = (size_t)v;
	}
	free(copy);
	if (a->ncurve == 0) {
		fprintf(stderr, "accuracy: --curve: no numbers\n");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'H' },
		{ "reject", required_argument, NULL, 'R' },
		{ "slice", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "dump", no_argument, NULL, 'd' },
		{ "curve", required_argument, NULL, 'C' },
		{ "bayes-s", required_argument, NULL, 's' },
		{ "bayes-x", required_argument, NULL, 'x' },
		{ "bayes-min-dev", required_argument, NULL, 'm' },
		{ "bayes-min", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct accuracy a;
	struct tally all[MODE__COUNT];
	const char *rules = "rules", *conf = NULL;
	char *errors = NULL;
	double hold = -1, reject = -1, slice = 0;
	int ch, json = 0, k, m;
	size_t i;

	memset(&a, 0, sizeof a);
	log_init("accuracy", LOG_LEVEL_WARN, 0);
	bayes_params_default(&a.bp);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			rules = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'H':
			hold = accuracy_number(optarg, "--hold");
			break;
		case 'R':
			reject = accuracy_number(optarg, "--reject");
			break;
		case 'n':
			slice = accuracy_number(optarg, "--slice");
			if (slice < 1)
				accuracy_usage();
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			a.dump = 1;
			break;
		case 'C':
			accuracy_parse_curve(&a, optarg);
			break;
		case 's':
			a.bp.s = accuracy_number(optarg, "--bayes-s");
			break;
		case 'x':
			a.bp.x = accuracy_number(optarg, "--bayes-x");
			break;
		case 'm':
			a.bp.min_dev = accuracy_number(optarg, "--bayes-min-dev");
			break;
		case 'b':
			a.bp.min_spam = a.bp.min_ham =
			    (unsigned long)accuracy_number(optarg, "--bayes-min");
			break;
		default:
			accuracy_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		fprintf(stderr, "accuracy: cross-validation needs two files or more\n");
		accuracy_usage();
	}

	a.cfg = config_new();
	if (conf != NULL && config_load(a.cfg, conf, &errors) != 0) {
		fprintf(stderr, "%s", errors);
		exit(1);
	}
	a.thr[AT_HOLD] = hold >= 0 ? hold : a.cfg->hold_score;
	a.thr[AT_REJECT] = reject >= 0 ? reject : a.cfg->reject_score;
	if ((a.rs = ruleset_load(rules, &errors)) == NULL) {
		fprintf(stderr, "%s", errors);
		exit(1);
	}
	a.files = xcalloc((size_t)argc, sizeof *a.files);
	a.nfiles = argc;
	a.tally = xcalloc((size_t)argc, sizeof *a.tally);
	a.first = xcalloc((size_t)argc, sizeof *a.first);
	a.count = xcalloc((size_t)argc, sizeof *a.count);
	for (k = 0; k < argc; k++) {
		a.files[k] = xstrdup(basename(argv[k]));
		a.first[k] = a.n;
		accuracy_load(&a, argv[k], k, (size_t)slice);
		a.count[k] = a.n - a.first[k];
	}
	for (k = 0; k < argc; k++)
		accuracy_fold(&a, k);
	if (a.ncurve > 0 && !a.dump) {
		a.curve_tally = xcalloc((size_t)argc * a.ncurve, sizeof *a.curve_tally);
		a.curve_trained = xcalloc((size_t)argc * a.ncurve,
		    sizeof *a.curve_trained);
		for (k = 0; k < argc; k++)
			for (i = 0; i < a.ncurve; i++)
				accuracy_curve_fold(&a, k, a.curve[i],
				    &a.curve_tally[(size_t)k * a.ncurve + i],
				    &a.curve_trained[(size_t)k * a.ncurve + i]);
	}

	if (!a.dump) {
		memset(all, 0, sizeof all);
		for (k = 0; k < argc; k++)
			for (m = 0; m < MODE__COUNT; m++)
				accuracy_tally_add(&all[m], &a.tally[k][m]);
		qsort(a.rules, a.nrules, sizeof *a.rules, accuracy_rule_cmp);
		if (json)
			accuracy_json(&a, all);
		else
			accuracy_text(&a, all);
	}

	for (i = 0; i < a.n; i++) {
		comment_free(&a.s[i].c);
		tokenize_free(&a.s[i].t);
	}
	for (i = 0; i < a.nrules; i++)
		free(a.rules[i].name);
	for (k = 0; k < argc; k++)
		free(a.files[k]);
	free(a.files);
	free(a.first);
	free(a.count);
	free(a.curve);
	free(a.curve_tally);
	free(a.curve_trained);
	free(a.rules);
	free(a.tally);
	free(a.s);
	ruleset_unref(a.rs);
	config_free(a.cfg);
	return 0;
}
