/* Strict UTF-8 checks for text that came from outside. */
#ifndef HEINZEL_UTF8_H
#define HEINZEL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True if s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and holds no NUL or other control characters
 * (C0 other than \t \n \r when multiline, DEL, C1).  Single-line text
 * refuses \t \n \r too.
 */
bool utf8_valid_text(const char *s, size_t len, bool multiline);

/* True if s[0..len) is well-formed UTF-8 (control characters allowed). */
bool utf8_valid(const char *s, size_t len);

/* Decode one code point at s (len bytes left); returns its length, or 0 on bad input. */
size_t utf8_decode(const char *s, size_t len, unsigned int *cp);

/* Encode cp (at most U+10FFFF, no surrogate) into out; returns 1 to 4 bytes. */
size_t utf8_encode(unsigned int cp, char *out);

/* C0 controls, DEL and C1 controls. */
bool utf8_is_control(unsigned int cp);
/*
 * The invisible controls that reorder text on a terminal (U+202E makes
 * "exe.txt" of "txt.exe"): the bidi embeddings, overrides, isolates and
 * marks.
 */
bool utf8_is_bidi_control(unsigned int cp);
/* Number of code points in valid UTF-8. */
size_t utf8_length(const char *s, size_t len);

#endif
