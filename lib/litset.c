/*
 * Small sets of byte strings for the literal extractor: sets of at most a
 * few dozen strings, so a linear search is all they need.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "litset.h"
#include "xmalloc.h"

void
litset_free(struct litset *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	memset(l, 0, sizeof *l);
}

bool
litset_has(const struct litset *l, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].len == len && memcmp(l->v[i].s, s, len) == 0)
			return true;
	return false;
}

void
litset_add(struct litset *l, const char *s, size_t len)
{
	if (litset_has(l, s, len))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n].s = xmalloc(len + 1);
	memcpy(l->v[l->n].s, s, len);
	l->v[l->n].s[len] = '\0';
	l->v[l->n].len = len;
	l->n++;
}

void
litset_empty(struct litset *l)
{
	memset(l, 0, sizeof *l);
	l->valid = true;
	litset_add(l, "", 0);
}

void
litset_move(struct litset *dst, struct litset *src)
{
	litset_free(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

size_t
litset_minlen(const struct litset *l)
{
	size_t i, min = SIZE_MAX;

	for (i = 0; i < l->n; i++)
		if (l->v[i].len < min)
			min = l->v[i].len;
	return min;
}

bool
litset_product(struct litset *a, const struct litset *b, size_t max,
    size_t maxlen)
{
	struct litset out;
	char *buf;
	size_t i, j;

	if (a->n * b->n > max)
		return false;
	for (i = 0; i < a->n; i++)
		for (j = 0; j < b->n; j++)
			if (a->v[i].len + b->v[j].len > maxlen)
				return false;
	memset(&out, 0, sizeof out);
	out.valid = true;
	buf = xmalloc(maxlen + 1);
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++) {
			memcpy(buf, a->v[i].s, a->v[i].len);
			memcpy(buf + a->v[i].len, b->v[j].s, b->v[j].len);
			litset_add(&out, buf, a->v[i].len + b->v[j].len);
		}
	}
	free(buf);
	litset_move(a, &out);
	return true;
}

void
litset_union(struct litset *a, const struct litset *b, size_t max)
{
	size_t i;

	if (!a->valid)
		return;
	if (!b->valid) {
		litset_free(a);
		return;
	}
	for (i = 0; i < b->n; i++) {
		litset_add(a, b->v[i].s, b->v[i].len);
		if (a->n > max) {
			litset_free(a);
			return;
		}
	}
}

void
litset_minimize(struct litset *l)
{
	bool *drop;
	size_t i, j, n = 0;

	if (l->n < 2)
		return;
	drop = xcalloc(l->n, sizeof *drop);
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->n; j++) {
			/* Strings are distinct: a shorter one, or none. */
			if (j == i || l->v[j].len >= l->v[i].len)
				continue;
			if (memmem(l->v[i].s, l->v[i].len, l->v[j].s,
			    l->v[j].len) != NULL) {
				drop[i] = true;
				break;
			}
		}
	}
	for (i = 0; i < l->n; i++) {
		if (drop[i])
			free(l->v[i].s);
		else
			l->v[n++] = l->v[i];
	}
	l->n = n;
	free(drop);
}

bool
litset_same(const struct litset *a, const struct litset *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!litset_has(b, a->v[i].s, a->v[i].len))
			return false;
	return true;
}

void
litset_copy(struct litset *dst, const struct litset *src)
{
	size_t i;

	memset(dst, 0, sizeof *dst);
	if (!src->valid)
		return;
	dst->valid = true;
	dst->n = dst->cap = src->n;
	dst->v = xreallocarray(NULL, src->n + 1, sizeof *dst->v);
	for (i = 0; i < src->n; i++) {
		dst->v[i].s = xmalloc(src->v[i].len + 1);
		memcpy(dst->v[i].s, src->v[i].s, src->v[i].len + 1);
		dst->v[i].len = src->v[i].len;
	}
}
