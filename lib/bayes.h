/*
 * The naive-Bayes classifier: Gary Robinson's f(w) per token and Fisher's
 * chi-square combining of the most telling ones, as in SpamBayes,
 * bogofilter and SpamAssassin.  Pure arithmetic over counts that come
 * from elsewhere: from memory (tests, bench/accuracy) or from Redis
 * (bayes_store.h), through a lookup callback.
 *
 * The result, a spam probability, scores as one BAYES_* pseudo-rule.
 */
#ifndef HEINZEL_BAYES_H
#define HEINZEL_BAYES_H

#include <stdbool.h>
#include <stddef.h>

struct score;
struct tokens;

/* Messages trained of each class. */
struct bayes_counts {
	unsigned long nspam;
	unsigned long nham;
};

/* Trained messages of each class that held one token. */
struct bayes_token {
	unsigned long spam;
	unsigned long ham;
};

struct bayes_params {
	double s;		/* strength of the prior: 1 */
	double x;		/* f(w) of a token never seen: 0.5 */
	double min_dev;		/* least |f(w) - 0.5| of a token used: 0.1 */
	unsigned int max_clues;	/* most telling tokens combined: 150 */
	unsigned long min_spam;	/* spam trained before Bayes scores: 50 */
	unsigned long min_ham;	/* ham trained before Bayes scores: 50 */
};

struct bayes_result {
	bool ready;		/* trained enough of both classes */
	double prob;		/* spam probability 0..1; 0.5 without clues */
	double spamminess;	/* S of Fisher's method */
	double hamminess;	/* H */
	unsigned int nclues;	/* tokens combined */
};

/*
 * Counts of token i of the message (token is t->v[i]).  Returns false for
 * a token never trained (out is then ignored).
 */
typedef bool (*bayes_lookup_cb)(void *arg, size_t i, const char *token,
    struct bayes_token *out);

#define BAYES_PSEUDO_PREFIX	"BAYES_"

void bayes_params_default(struct bayes_params *p);
bool bayes_ready(const struct bayes_params *p, const struct bayes_counts *c);

/*
 * Robinson's f(w) = (s * x + n * p(w)) / (s + n), where n is the number
 * of trained messages holding the token and p(w) = b / (b + g) with b and
 * g its frequencies among spam and among ham.  A token seen once (a
 * hapax) so weighs little: with s = 1, x = 0.5 at most 0.75.
 */
double bayes_token_prob(const struct bayes_params *p, const struct bayes_counts *c,
    const struct bayes_token *tc);

/* Probability that chi-square with dof (even) degrees of freedom is >= x2. */
double bayes_chi2q(double x2, unsigned int dof);

/*
 * Fisher's combining of n token probabilities:
 * S = 1 - chi2q(-2 sum ln(1 - f), 2n), H = 1 - chi2q(-2 sum ln f, 2n),
 * result (1 + S - H) / 2; 0.5 when n is 0.  S and H may be NULL.
 */
double bayes_combine(const double *f, size_t n, double *spamminess, double *hamminess);

/*
 * Classify the tokens of a message: f(w) of every token, those at least
 * min_dev away from 0.5, at most max_clues of them, the farthest first,
 * combined.  Not ready (and prob 0.5) below min_spam/min_ham.
 */
void bayes_classify(const struct bayes_params *p, const struct bayes_counts *c,
    const struct tokens *t, bayes_lookup_cb cb, void *arg, struct bayes_result *r);
/* The same with counts[i] for token i (zero counts: never trained). */
void bayes_classify_counts(const struct bayes_params *p, const struct bayes_counts *c,
    const struct tokens *t, const struct bayes_token *counts, struct bayes_result *r);

/*
 * The pseudo-rule of a probability: "BAYES_99" and its points, or NULL
 * for the neutral band (0.2 < prob < 0.8 gives no hit).
 */
const char *bayes_band(double prob, double *points);

/* Whether name is a band's pseudo-rule, and its points. */
bool bayes_band_points(const char *name, double *points);

/* Add the result's BAYES_* hit to s: at most one, none when not ready. */
void bayes_score(const struct bayes_result *r, struct score *s);

/* ---- counts in memory, for tests and bench/accuracy ---- */

struct bayes_mem;

struct bayes_mem *bayes_mem_new(void);
void bayes_mem_free(struct bayes_mem *m);
/* Train (delta 1) or untrain (delta -1) one message; counts stop at 0. */
void bayes_mem_learn(struct bayes_mem *m, const struct tokens *t, bool spam, int delta);
void bayes_mem_counts(const struct bayes_mem *m, struct bayes_counts *c);
size_t bayes_mem_size(const struct bayes_mem *m);	/* tokens known */
/* A bayes_lookup_cb; arg is the struct bayes_mem. */
bool bayes_mem_lookup_cb(void *arg, size_t i, const char *token, struct bayes_token *out);

#endif
