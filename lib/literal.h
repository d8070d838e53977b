/*
 * Required literals of a rule's pattern, for the prefilter of the rule
 * engine: groups of strings such that every match of the pattern contains
 * a string of each group.  A group is either folded (fold_text) or
 * squeezed (fold_squeeze): its strings occur in the folded or squeezed
 * text of every match.
 */
#ifndef HEINZEL_LITERAL_H
#define HEINZEL_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Groups of strings: every match contains at least one string of each
 * group (a conjunction of alternatives).  Group 0 filters best.
 */
struct literal_set {
	char		**s;		/* NUL-terminated, never empty */
	size_t		 *len;
	unsigned int	 *group;	/* 0 .. ngroups - 1 */
	size_t		  n;
	unsigned int	  ngroups;	/* at most LITERAL_GROUPS */
	unsigned int	  squeezed;	/* bit g: group g is squeezed */
};
#define LITERAL_GROUPS	8		/* 4 folded, 4 squeezed */

/*
 * Find the literals every match of pattern (PCRE2 source, UTF-8, compiled
 * with the rule flags of "imsxu" and PCRE2_UTF) must contain.  Returns true
 * with set filled (free it with literal_set_free), or false with set empty
 * when no literal is required or the pattern uses syntax the extractor does
 * not follow (x flag, \Q...\E, backreferences, verbs, ...): such a rule
 * must always run.
 */
bool	 literal_extract(const char *pattern, size_t len, const char *flags,
	    struct literal_set *set);
void	 literal_set_free(struct literal_set *set);

#endif
