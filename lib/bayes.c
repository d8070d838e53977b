/*
 * Naive Bayes after Gary Robinson ("A Statistical Approach to the Spam
 * Problem", Linux Journal 2003): f(w) with a prior of strength s around
 * x, and Fisher's inverse chi-square combining, as SpamBayes' chi2
 * classifier does it.  Plus a small token table in memory for the tests
 * and the accuracy harness.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "score.h"
#include "tokenize.h"
#include "xmalloc.h"

/*
 * The bands a probability scores in, highest first.  Measured with
 * bench/accuracy (docs/accuracy.md): Bayes alone may hold a comment (99 %
 * sure: one point over hold_score) but never reject one; it takes a rule
 * as well.  The ham side is as strong, so a real reader's comment that
 * trips a rule or two is pulled back under the thresholds.
 */
static const struct {
	const char *name;
	double min;		/* prob >= min */
	double points;
} bayes_bands[] = {
	{ "BAYES_999", 0.999, 5 },
	{ "BAYES_99", 0.99, 4.5 },
	{ "BAYES_95", 0.95, 3.5 },
	{ "BAYES_80", 0.80, 2 },
	{ NULL, 0.20, 0 },	/* neutral: no hit */
	{ "BAYES_20", 0.05, -1 },
	{ "BAYES_05", 0.01, -2 },
	{ "BAYES_00", 0, -3 },
};
void
bayes_params_default(struct bayes_params *p)
{
	p->s = 1;
	p->x = 0.5;
	p->min_dev = 0.1;
	p->max_clues = 150;
	p->min_spam = 50;
	p->min_ham = 50;
}

bool
bayes_ready(const struct bayes_params *p, const struct bayes_counts *c)
{
	return c->nspam >= p->min_spam && c->nham >= p->min_ham &&
	    c->nspam > 0 && c->nham > 0;
}

double
bayes_token_prob(const struct bayes_params *p, const struct bayes_counts *c,
    const struct bayes_token *tc)
{
	double b = 0, g = 0, pw, n;

	/* After an untrain the totals may lag a token's count: never over 1. */
	if (tc->spam > 0)
		b = (double)tc->spam / (double)(c->nspam > tc->spam ? c->nspam : tc->spam);
	if (tc->ham > 0)
		g = (double)tc->ham / (double)(c->nham > tc->ham ? c->nham : tc->ham);
	n = (double)tc->spam + (double)tc->ham;
	if (b + g == 0)
		return p->x;
	pw = b / (b + g);
	return (p->s * p->x + n * pw) / (p->s + n);
}

double
bayes_chi2q(double x2, unsigned int dof)
{
	double m = x2 / 2, sum, term;
	unsigned int i;

	if (x2 <= 0)
		return 1;
	sum = term = exp(-m);
	for (i = 1; i < dof / 2; i++) {
		term *= m / i;
		sum += term;
	}
	return sum < 1 ? sum : 1;
}

double
bayes_combine(const double *f, size_t n, double *spamminess, double *hamminess)
{
	double ls = 0, lh = 0, s, h;
	size_t i;

	if (n == 0) {
		if (spamminess != NULL)
			*spamminess = 0;
		if (hamminess != NULL)
			*hamminess = 0;
		return 0.5;
	}
	/* Sums of logarithms: products of 150 small numbers underflow. */
	for (i = 0; i < n; i++) {
		ls += log(1 - f[i]);
		lh += log(f[i]);
	}
	s = 1 - bayes_chi2q(-2 * ls, (unsigned int)(2 * n));
	h = 1 - bayes_chi2q(-2 * lh, (unsigned int)(2 * n));
	if (spamminess != NULL)
		*spamminess = s;
	if (hamminess != NULL)
		*hamminess = h;
	return (1 + s - h) / 2;
}

struct bayes_clue {
	double f, dev;
	size_t i;
};

static int
bayes_clue_cmp(const void *a, const void *b)
{
	const struct bayes_clue *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev > y->dev ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void
bayes_classify(const struct bayes_params *p, const struct bayes_counts *c,
    const struct tokens *t, bayes_lookup_cb cb, void *arg, struct bayes_result *r)
{
	struct bayes_clue *clues;
	struct bayes_token tc;
	double *f, dev;
	size_t i, n = 0;

	memset(r, 0, sizeof *r);
	r->prob = 0.5;
	if (!bayes_ready(p, c))
		return;
	r->ready = true;
	if (t->n == 0)
		return;
	clues = xcalloc(t->n, sizeof *clues);
	for (i = 0; i < t->n; i++) {
		if (!cb(arg, i, t->v[i], &tc))
			continue;
		clues[n].f = bayes_token_prob(p, c, &tc);
		dev = fabs(clues[n].f - 0.5);
		if (dev < p->min_dev)
			continue;
		clues[n].dev = dev;
		clues[n].i = i;
		n++;
	}
	qsort(clues, n, sizeof *clues, bayes_clue_cmp);
	if (n > p->max_clues)
		n = p->max_clues;
	f = xcalloc(n + 1, sizeof *f);
	for (i = 0; i < n; i++)
		f[i] = clues[i].f;
	r->nclues = (unsigned int)n;
	r->prob = bayes_combine(f, n, &r->spamminess, &r->hamminess);
	free(f);
	free(clues);
}

static bool
bayes_array_cb(void *arg, size_t i, const char *token, struct bayes_token *out)
{
	const struct bayes_token *counts = arg;

	(void)token;
	*out = counts[i];
	return out->spam > 0 || out->ham > 0;
}

void
bayes_classify_counts(const struct bayes_params *p, const struct bayes_counts *c,
    const struct tokens *t, const struct bayes_token *counts, struct bayes_result *r)
{
	bayes_classify(p, c, t, bayes_array_cb, (void *)(uintptr_t)counts, r);
}

const char *
bayes_band(double prob, double *points)
{
	size_t i;

	for (i = 0; i < sizeof bayes_bands / sizeof bayes_bands[0]; i++) {
		if (prob >= bayes_bands[i].min) {
			*points = bayes_bands[i].points;
			return bayes_bands[i].name;
		}
	}
	*points = 0;
	return NULL;
}

bool
bayes_band_points(const char *name, double *points)
{
	size_t i;

	for (i = 0; i < sizeof bayes_bands / sizeof bayes_bands[0]; i++) {
		if (bayes_bands[i].name != NULL &&
		    strcmp(bayes_bands[i].name, name) == 0) {
			*points = bayes_bands[i].points;
			return true;
		}
	}
	return false;
}

void
bayes_score(const struct bayes_result *r, struct score *s)
{
	const char *name;
	double points;

	if (!r->ready)
		return;
	if ((name = bayes_band(r->prob, &points)) != NULL)
		score_add_part(s, SCORE_BAYES, name, points, 1);
}

/* ---- counts in memory ---- */

struct bayes_mem_entry {
	char *token;		/* NULL: free slot */
	struct bayes_token tc;
};

struct bayes_mem {
	struct bayes_counts counts;
	struct bayes_mem_entry *slot;
	size_t nslot, used;
};

static uint64_t
bayes_mem_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct bayes_mem *
bayes_mem_new(void)
{
	struct bayes_mem *m = xcalloc(1, sizeof *m);

	m->nslot = 1024;
	m->slot = xcalloc(m->nslot, sizeof *m->slot);
	return m;
}

void
bayes_mem_free(struct bayes_mem *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nslot; i++)
		free(m->slot[i].token);
	free(m->slot);
	free(m);
}

static struct bayes_mem_entry *
bayes_mem_find(const struct bayes_mem *m, const char *token)
{
	size_t i = (size_t)bayes_mem_hash(token) & (m->nslot - 1);

	while (m->slot[i].token != NULL && strcmp(m->slot[i].token, token) != 0)
		i = (i + 1) & (m->nslot - 1);
	return &m->slot[i];
}

static void
bayes_mem_grow(struct bayes_mem *m)
{
	struct bayes_mem_entry *old = m->slot, *e;
	size_t i, n = m->nslot;

	m->nslot *= 2;
	m->slot = xcalloc(m->nslot, sizeof *m->slot);
	for (i = 0; i < n; i++) {
		if (old[i].token == NULL)
			continue;
		e = bayes_mem_find(m, old[i].token);
		*e = old[i];
	}
	free(old);
}

/* Untrained tokens keep their slot with zero counts: no tombstones needed. */
void
bayes_mem_learn(struct bayes_mem *m, const struct tokens *t, bool spam, int delta)
{
	struct bayes_mem_entry *e;
	unsigned long *n;
	size_t i;

	n = spam ? &m->counts.nspam : &m->counts.nham;
	if (delta > 0)
		(*n)++;
	else if (*n > 0)
		(*n)--;
	for (i = 0; i < t->n; i++) {
		if ((m->used + 1) * 2 > m->nslot)
			bayes_mem_grow(m);
		e = bayes_mem_find(m, t->v[i]);
		if (e->token == NULL) {
			if (delta < 0)
				continue;
			e->token = xstrdup(t->v[i]);
			m->used++;
		}
		n = spam ? &e->tc.spam : &e->tc.ham;
		if (delta > 0)
			(*n)++;
		else if (*n > 0)
			(*n)--;
	}
}

void
bayes_mem_counts(const struct bayes_mem *m, struct bayes_counts *c)
{
	*c = m->counts;
}

size_t
bayes_mem_size(const struct bayes_mem *m)
{
	return m->used;
}

bool
bayes_mem_lookup_cb(void *arg, size_t i, const char *token, struct bayes_token *out)
{
	struct bayes_mem_entry *e = bayes_mem_find(arg, token);

	(void)i;
	if (e->token == NULL || (e->tc.spam == 0 && e->tc.ham == 0))
		return false;
	*out = e->tc;
	return true;
}
