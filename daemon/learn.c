/*
 * POST /v1/learn: the body of a learning import, parsed.  Each line goes
 * through tokenize_learn_json(), as `heinzelctl learn` does it; the
 * server sends the tokens to Redis one comment at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "learn.h"
#include "xmalloc.h"

int
learn_parse(struct learn_batch *b, const char *body, size_t len)
{
	const char *p = body, *end = body + len, *nl;
	size_t lines = 0, n;
	struct fault f;

	memset(b, 0, sizeof *b);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl != NULL ? nl : end) - p;
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0) {
			if (++lines > LEARN_MAX_COMMENTS) {
				learn_batch_free(b);
				return -1;
			}
			if (b->tokens == NULL)
				b->tokens = xcalloc(LEARN_MAX_COMMENTS, sizeof *b->tokens);
			tokenize_init(&b->tokens[b->n]);
			if (tokenize_learn_json(&b->tokens[b->n], p, n, &f) == 0)
				b->n++;
			else {
				tokenize_free(&b->tokens[b->n]);
				b->skipped++;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

void
learn_batch_free(struct learn_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		tokenize_free(&b->tokens[i]);
	free(b->tokens);
	memset(b, 0, sizeof *b);
}
