/*
 * Required literals of a rule's pattern, for the prefilter of the rule
 * engine: groups of strings such that every match of the pattern contains
 * a string of each group.  The strings are folded with literal_fold(), and
 * the prefilter looks for them in text folded the same way, so one scan
 * serves case-sensitive and caseless rules alike.
 */
#ifndef HEINZEL_LITERAL_H
#define HEINZEL_LITERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Groups of strings: every match contains at least one string of each
 * group (a conjunction of alternatives).
 */
struct literal_set {
	char		**s;		/* NUL-terminated, never empty */
	size_t		 *len;
	unsigned int	 *group;	/* 0 .. ngroups - 1 */
	size_t		  n;
	unsigned int	  ngroups;	/* at most LITERAL_GROUPS */
};
#define LITERAL_GROUPS	4

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

/*
 * Fold UTF-8 text one character at a time: ASCII and Latin-1 capitals to
 * small letters, and the other characters PCRE2 matches caselessly with
 * them to the same letter (U+212A Kelvin sign to k, U+017F long s to s,
 * U+212B Angstrom sign to å, U+1E9E capital sharp s to ß, U+0178 to ÿ).
 * Anything else, invalid UTF-8 included, is copied.  out holds at least len
 * bytes; returns the folded length, never more than len.
 */
size_t	 literal_fold(const char *s, size_t len, char *out);
/* The fold of one code point. */
uint32_t literal_fold_cp(uint32_t cp);

/*
 * True if every character PCRE2 matches caselessly against cp (with UTF,
 * with or without UCP) has the same fold as cp: only then may a caseless
 * pattern's character be part of a literal.
 */
bool	 literal_caseless_safe(uint32_t cp);

#endif
