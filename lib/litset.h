/*
 * Small sets of byte strings, the algebra of the literal extractor
 * (literal.c): what an item of a pattern matches exactly, or what every
 * match of it contains.
 */
#ifndef HEINZEL_LITSET_H
#define HEINZEL_LITSET_H

#include <stdbool.h>
#include <stddef.h>

struct litset_str {
	char	*s;		/* NUL-terminated copy */
	size_t	 len;
};

/* A set of distinct strings; valid false means "no set": anything goes. */
struct litset {
	bool			 valid;
	struct litset_str	*v;
	size_t			 n, cap;
};

/* Free the strings; the set becomes invalid and empty. */
void	litset_free(struct litset *l);
bool	litset_has(const struct litset *l, const char *s, size_t len);
/* Add a copy of s unless it is there already. */
void	litset_add(struct litset *l, const char *s, size_t len);
/* The valid set of only the empty string: what a zero-width item matches. */
void	litset_empty(struct litset *l);
/* dst := src (dst freed first); src becomes invalid and empty. */
void	litset_move(struct litset *dst, struct litset *src);
/* A deep copy of src into dst (not freed first). */
void	litset_copy(struct litset *dst, const struct litset *src);
/* The length of the shortest string, SIZE_MAX for an empty set. */
size_t	litset_minlen(const struct litset *l);
bool	litset_same(const struct litset *a, const struct litset *b);
/*
 * a := every string of a followed by every string of b; false with a
 * unchanged if that is more than max strings or any is over maxlen bytes.
 */
bool	litset_product(struct litset *a, const struct litset *b, size_t max,
	    size_t maxlen);
/* a := a ∪ b; a becomes invalid if b is, or if a grows over max strings. */
void	litset_union(struct litset *a, const struct litset *b, size_t max);
/*
 * Drop the strings that contain another string of the set: where they
 * occur, so does the shorter one.  For sets of required strings only.
 */
void	litset_minimize(struct litset *l);

#endif
