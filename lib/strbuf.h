/* A growable, always NUL-terminated string: text built piece by piece. */
#ifndef HEINZEL_STRBUF_H
#define HEINZEL_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;		/* NULL until the first add */
	size_t len, cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
/* The string, "" when nothing was added; the caller frees it.  *len may be NULL. */
char *strbuf_finish(struct strbuf *b, size_t *len);

#endif
