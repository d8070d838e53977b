/*
 * Text as the literal prefilter of the rule engine sees it: folded, so
 * that one literal stands for every spelling a caseless pattern matches,
 * and squeezed down to its ASCII letters and digits, so that one literal
 * stands for "v i a g r a", "v.i.a.g.r.a" and "viagra" alike.
 */
#ifndef HEINZEL_FOLD_H
#define HEINZEL_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Fold UTF-8 text one character at a time: ASCII and Latin-1 capitals to
 * small letters, and the other characters PCRE2 matches caselessly with
 * them to the same letter (U+212A Kelvin sign to k, U+017F long s to s,
 * U+212B Angstrom sign to å, U+1E9E capital sharp s to ß, U+0178 to ÿ).
 * Anything else, invalid UTF-8 included, is copied.  out holds at least len
 * bytes; returns the folded length, never more than len.
 */
size_t		 fold_text(const char *s, size_t len, char *out);
/* The fold of one code point. */
uint32_t	 fold_cp(uint32_t cp);

/*
 * True if every character PCRE2 matches caselessly against cp (with UTF,
 * with or without UCP) has the same fold as cp: only then may a caseless
 * pattern's character be part of a literal.
 */
bool		 fold_caseless_safe(uint32_t cp);

/*
 * Keep the ASCII letters (as small letters) and digits of text and drop
 * every other character; returns the length, never more than len.
 */
size_t		 fold_squeeze(const char *s, size_t len, char *out);

#endif
