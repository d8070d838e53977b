/*
 * POST /v1/learn: labelled comments for the classifier from a trusted
 * frontend (e.g. a blog's history, imported by its WordPress plugin).
 * The body is what `heinzelctl learn` reads: JSON lines, one comment each.
 */
#ifndef HEINZEL_LEARN_H
#define HEINZEL_LEARN_H

#include <stddef.h>

#include "tokenize.h"

/* Comments one request may carry. */
#define LEARN_MAX_COMMENTS 1000

struct learn_batch {
	struct tokens *tokens;		/* one per valid comment */
	size_t n;
	size_t next;			/* the next to send to Redis */
	unsigned long skipped;		/* lines that were no valid comment */
	unsigned long learned;
	unsigned long failed;		/* Redis did not take them */
};

/*
 * Parse the body into b: each non-empty line a JSON comment, validated
 * and tokenized.  -1 when it has more than LEARN_MAX_COMMENTS lines.
 */
int learn_parse(struct learn_batch *b, const char *body, size_t len);
void learn_batch_free(struct learn_batch *b);

#endif
