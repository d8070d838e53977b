/*
 * libFuzzer: the Bayes tokenizer on comment text.  The input is the text
 * itself (when it is text a body may hold) and, when it is a JSON comment
 * that validates, the whole comment through tokenize_comment(), the way
 * heinzeld tokenizes a submission.
 */
#include <stdbool.h>
#include <string.h>

#include "comment.h"
#include "fault.h"
#include "log.h"
#include "tokenize.h"
#include "utf8.h"
#include "xmalloc.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char out[8];
	unsigned int cp;
	size_t n;

	(void)argc;
	(void)argv;
	log_init("fuzz_tokenize", LOG_LEVEL_ERROR, 0);
	/* Every code point folds to at most 4 bytes of UTF-8. */
	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		memset(out, 0, sizeof out);
		n = tokenize_fold(cp, out);
		FUZZ_CHECK(n <= 4);
		FUZZ_CHECK(utf8_valid(out, n));
		FUZZ_CHECK(out[4] == '\0');
	}
	return 0;
}

static int
fuzz_tokenize_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What tokenize.h promises of a token set. */
static void
fuzz_tokenize_check(const struct tokens *t)
{
	char **sorted, *joined;
	size_t i, len, lines;

	FUZZ_CHECK(t->n <= TOKENIZE_MAX);
	if (t->full)
		FUZZ_CHECK(t->n == TOKENIZE_MAX);
	for (i = 0; i < t->n; i++) {
		FUZZ_CHECK(t->len[i] > 0);
		FUZZ_CHECK(strlen(t->v[i]) == t->len[i]);
		/*
		 * No newline, tab or other control: newlines join them.  (A
		 * word pair holds one space.)
		 */
		FUZZ_CHECK(utf8_valid_text(t->v[i], t->len[i], false));
		FUZZ_CHECK(tokenize_has(t, t->v[i]));
	}
	if (t->n > 1) {
		sorted = xreallocarray(NULL, t->n, sizeof *sorted);
		memcpy(sorted, t->v, t->n * sizeof *sorted);
		qsort(sorted, t->n, sizeof *sorted, fuzz_tokenize_cmp);
		for (i = 1; i < t->n; i++)
			FUZZ_CHECK(strcmp(sorted[i - 1], sorted[i]) != 0);
		free(sorted);
	}
	joined = tokenize_join(t, &len);
	FUZZ_CHECK(strlen(joined) == len);
	for (i = 0, lines = len > 0; i < len; i++)
		lines += joined[i] == '\n';
	FUZZ_CHECK(lines == t->n);
	free(joined);
}

/* Tokenizing is a function of the text: twice gives the same list. */
static void
fuzz_tokenize_same(const struct tokens *a, const struct tokens *b)
{
	size_t i;

	FUZZ_CHECK(a->n == b->n && a->full == b->full);
	for (i = 0; i < a->n; i++)
		FUZZ_CHECK(strcmp(a->v[i], b->v[i]) == 0);
}

static void
fuzz_tokenize_comment(const char *s, size_t len)
{
	struct comment_limits lim = { 10000, false };
	struct comment c;
	struct tokens t;
	struct fault f;

	comment_init(&c);
	fault_clear(&f);
	if (comment_from_json(&c, s, len, &f) == 0 &&
	    comment_validate(&c, &lim, &f) == 0) {
		tokenize_init(&t);
		tokenize_comment(&t, &c);
		fuzz_tokenize_check(&t);
		tokenize_free(&t);
	}
	comment_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *s = (const char *)data;
	struct tokens a, b;

	if (utf8_valid_text(s, len, true)) {
		tokenize_init(&a);
		tokenize_text(&a, NULL, s, len);
		fuzz_tokenize_check(&a);
		tokenize_init(&b);
		tokenize_text(&b, NULL, s, len);
		fuzz_tokenize_same(&a, &b);
		tokenize_free(&b);
		/* With a prefix, as for the author field. */
		tokenize_text(&a, "author:", s, len);
		fuzz_tokenize_check(&a);
		tokenize_free(&a);
	}
	fuzz_tokenize_comment(s, len);
	return 0;
}
