/* One scoring for heinzeld and heinzelctl: rules, checks, Bayes. */
#include <stdlib.h>

#include "bayes.h"
#include "bayes_store.h"
#include "checks.h"
#include "config.h"
#include "rules.h"
#include "score.h"
#include "scoring.h"
#include "tokenize.h"
#include "xmalloc.h"

int
scoring_score(const struct config *cfg, struct ruleset *rs,
    const struct comment *c, const struct bayes_result *bayes,
    struct score *s)
{
	int limited;

	limited = ruleset_score(rs, c, s);
	checks_score(cfg, c, s);
	if (bayes != NULL)
		bayes_score(bayes, s);
	return limited;
}

int
scoring_bayes_reply(const struct config *cfg, const redisReply *reply,
    const struct tokens *t, struct bayes_result *res,
    struct bayes_counts *learned, const char **cause)
{
	struct bayes_params params;
	struct bayes_counts counts;
	struct bayes_token *tokens;

	tokens = xcalloc(t->n + 1, sizeof *tokens);
	if (bayes_store_fetch_reply(reply, t->n, &counts, tokens, cause) != 0) {
		free(tokens);
		return -1;
	}
	bayes_params_default(&params);
	params.min_spam = cfg->bayes_min_spam;
	params.min_ham = cfg->bayes_min_ham;
	bayes_classify_counts(&params, &counts, t, tokens, res);
	free(tokens);
	if (learned != NULL)
		*learned = counts;
	return 0;
}
