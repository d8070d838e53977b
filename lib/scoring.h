/*
 * Scoring one comment the way heinzeld does: the rules, the built-in
 * checks and, once trained, the Bayes classifier, into one score whose
 * hits say which part gave them.  heinzeld and `heinzelctl rules test`
 * both score through here, so the two cannot disagree.
 */
#ifndef HEINZEL_SCORING_H
#define HEINZEL_SCORING_H

#include <hiredis/hiredis.h>

struct bayes_counts;
struct bayes_result;
struct comment;
struct config;
struct ruleset;
struct score;
struct tokens;

/*
 * Add the hits of the rules, the checks and (when bayes is not NULL and
 * ready) the classifier's BAYES_* band to s.  Returns the number of rules
 * that hit their match limits (counted as no match).
 */
int scoring_score(const struct config *cfg, struct ruleset *rs,
    const struct comment *c, const struct bayes_result *bayes,
    struct score *s);

/*
 * The classifier's verdict on tokens t from the reply to
 * bayes_store_cmd_fetch, with [bayes] min_spam and min_ham, and how
 * much it learned (learned may be NULL).  -1 with
 * *cause on an unexpected reply (NULL: Redis did not answer).
 */
int scoring_bayes_reply(const struct config *cfg, const redisReply *reply,
    const struct tokens *t, struct bayes_result *res,
    struct bayes_counts *learned, const char **cause);

#endif
