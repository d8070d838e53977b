/* A growable string. */
#include <string.h>

#include "strbuf.h"
#include "xmalloc.h"

void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

char *
strbuf_finish(struct strbuf *b, size_t *len)
{
	if (b->p == NULL)
		strbuf_add(b, "", 0);
	if (len != NULL)
		*len = b->len;
	return b->p;
}
