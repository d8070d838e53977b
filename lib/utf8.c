/*
 * Strict UTF-8 (RFC 3629, Unicode table 3-7).  Most submitted text is
 * ASCII, so every loop first skips whole 8-byte words of it.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define UTF8_ONES	0x0101010101010101ULL
#define UTF8_HIGHS	0x8080808080808080ULL

static inline uint64_t
utf8_load(const char *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof v);
	return v;
}

/*
 * True if the 8 bytes in v are printable ASCII (0x20..0x7e).  The "has a
 * byte below n" trick is exact for the any-question once no byte has its
 * high bit set.
 */
static inline int
utf8_word_printable(uint64_t v)
{
	uint64_t del = v ^ (UTF8_ONES * 0x7f);

	if (v & UTF8_HIGHS)
		return 0;
	if ((v - UTF8_ONES * 0x20) & ~v & UTF8_HIGHS)
		return 0;
	if ((del - UTF8_ONES) & ~del & UTF8_HIGHS)
		return 0;
	return 1;
}

size_t
utf8_decode(const char *s, size_t len, unsigned int *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	/* 0x80..0xc1: a stray continuation byte or an overlong lead. */
	if (p[0] < 0xc2)
		return 0;
	if (p[0] < 0xe0) {
		if (len < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		*cp = ((unsigned int)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if (p[0] < 0xf0) {
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
		if (len < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		*cp = ((unsigned int)(p[0] & 0x0f) << 12) |
		    ((unsigned int)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	if (p[0] < 0xf5) {
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
		if (len < 4 || p[1] < lo || p[1] > hi ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		*cp = ((unsigned int)(p[0] & 0x07) << 18) |
		    ((unsigned int)(p[1] & 0x3f) << 12) |
		    ((unsigned int)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		return 4;
	}
	return 0;
}

bool
utf8_valid(const char *s, size_t len)
{
	unsigned int cp;
	size_t i = 0, n;

	while (i < len) {
		if (len - i >= 8 && (utf8_load(s + i) & UTF8_HIGHS) == 0) {
			i += 8;
			continue;
		}
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return false;
		i += n;
	}
	return true;
}

bool
utf8_valid_text(const char *s, size_t len, bool multiline)
{
	unsigned int cp;
	unsigned char c;
	size_t i = 0, n;

	while (i < len) {
		if (len - i >= 8 && utf8_word_printable(utf8_load(s + i))) {
			i += 8;
			continue;
		}
		c = (unsigned char)s[i];
		if (c < 0x20) {
			if (!multiline || (c != '\t' && c != '\n' && c != '\r'))
				return false;
			i++;
			continue;
		}
		if (c < 0x7f) {
			i++;
			continue;
		}
		if (c == 0x7f)
			return false;
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return false;
		if (cp < 0xa0)
			return false;	/* C1 controls */
		i += n;
	}
	return true;
}

size_t
utf8_length(const char *s, size_t len)
{
	uint64_t v;
	size_t i = 0, count = 0;

	/* Count every byte that is not a continuation byte (10xxxxxx). */
	for (; len - i >= 8; i += 8) {
		v = utf8_load(s + i);
		count += 8 - (size_t)__builtin_popcountll(v & ~(v << 1) &
		    UTF8_HIGHS);
	}
	for (; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

size_t
utf8_encode(unsigned int cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

bool
utf8_is_control(unsigned int cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

bool
utf8_is_bidi_control(unsigned int cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}
