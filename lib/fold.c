/*
 * Text as the prefilter sees it.  Folding maps every character to one
 * representative of the characters PCRE2 matches caselessly with it, as
 * far as the letters the literal extractor accepts go; squeezing keeps
 * only ASCII letters and digits.  Both work one character at a time, so a
 * match's folded (squeezed) text is a substring of the folded (squeezed)
 * subject.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fold.h"

uint32_t
fold_cp(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 0x20;
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 0x20;
	switch (cp) {
	case 0x0178:		/* Ÿ */
		return 0xff;
	case 0x017f:		/* ſ */
		return 's';
	case 0x1e9e:		/* ẞ */
		return 0xdf;
	case 0x212a:		/* Kelvin sign */
		return 'k';
	case 0x212b:		/* Angstrom sign */
		return 0xe5;
	}
	return cp;
}

bool
fold_caseless_safe(uint32_t cp)
{
	/* µ has Greek partners (U+039C, U+03BC) the fold leaves alone. */
	if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff && cp != 0xb5))
		return true;
	switch (cp) {
	case 0x0178:
	case 0x017f:
	case 0x1e9e:
	case 0x212a:
	case 0x212b:
		return true;
	}
	return false;
}

size_t
fold_text(const char *src, size_t len, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *out = (unsigned char *)dst;
	size_t i = 0, o = 0;

	/*
	 * Byte patterns of valid UTF-8: 0xc3, 0xc5, 0xe1 and 0xe2 are always
	 * lead bytes, so no match starts inside a character.
	 */
	while (i < len) {
		unsigned char b = s[i];

		if (b < 0x80) {
			out[o++] = (b >= 'A' && b <= 'Z') ? b + 0x20 : b;
			i++;
			continue;
		}
		if (b == 0xc3 && i + 1 < len && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9e && s[i + 1] != 0x97) {
			out[o++] = 0xc3;		/* À..Þ */
			out[o++] = s[i + 1] + 0x20;
			i += 2;
			continue;
		}
		if (b == 0xc5 && i + 1 < len && s[i + 1] == 0xb8) {
			out[o++] = 0xc3;		/* Ÿ */
			out[o++] = 0xbf;
			i += 2;
			continue;
		}
		if (b == 0xc5 && i + 1 < len && s[i + 1] == 0xbf) {
			out[o++] = 's';			/* ſ */
			i += 2;
			continue;
		}
		if (b == 0xe1 && i + 2 < len && s[i + 1] == 0xba &&
		    s[i + 2] == 0x9e) {
			out[o++] = 0xc3;		/* ẞ */
			out[o++] = 0x9f;
			i += 3;
			continue;
		}
		if (b == 0xe2 && i + 2 < len && s[i + 1] == 0x84 &&
		    (s[i + 2] == 0xaa || s[i + 2] == 0xab)) {
			if (s[i + 2] == 0xaa)
				out[o++] = 'k';		/* Kelvin */
			else {
				out[o++] = 0xc3;	/* Angstrom */
				out[o++] = 0xa5;
			}
			i += 3;
			continue;
		}
		out[o++] = b;
		i++;
	}
	return o;
}

size_t
fold_squeeze(const char *src, size_t len, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i, o = 0;

	/* Bytes of multi-byte characters are all >= 0x80: dropped. */
	for (i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			dst[o++] = (char)s[i];
		else if (s[i] >= 'A' && s[i] <= 'Z')
			dst[o++] = (char)(s[i] + 0x20);
		else if (s[i] >= '0' && s[i] <= '9')
			dst[o++] = (char)s[i];
	}
	return o;
}
