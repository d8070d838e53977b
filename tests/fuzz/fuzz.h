/* Shared bits of the libFuzzer targets. */
#ifndef HEINZEL_FUZZ_H
#define HEINZEL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct comment;
struct fault;

/* Called by libFuzzer's main. */
int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant: abort, so libFuzzer keeps the input as a crash. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/* fuzz_comment.c: parse with fn, validate both ways, check the result. */
typedef int (*fuzz_comment_parse_fn)(struct comment *, const char *, size_t,
    struct fault *);
void	fuzz_comment_run(fuzz_comment_parse_fn, const uint8_t *, size_t);

#endif
