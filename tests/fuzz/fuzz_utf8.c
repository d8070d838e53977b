/*
 * libFuzzer: the strict UTF-8 checks against each other, against a plain
 * byte-at-a-time reference decoder written from RFC 3629, and against
 * utf8_encode.
 */
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "utf8.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_utf8", LOG_LEVEL_ERROR, 0);
	return 0;
}

/* RFC 3629 by the book: the sequence's length and code point, or 0. */
static size_t
fuzz_utf8_reference(const unsigned char *p, size_t len, unsigned int *cp)
{
	unsigned int v, min;
	size_t n, i;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		v = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		v = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		v = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* What utf8_valid_text refuses besides bad UTF-8. */
static bool
fuzz_utf8_control(unsigned int cp, bool multiline)
{
	if (cp < 0x20)
		return !multiline || (cp != '\t' && cp != '\n' && cp != '\r');
	return cp >= 0x7f && cp < 0xa0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *s = (const char *)data;
	unsigned int cp, ref;
	char enc[4];
	size_t i, n, rn, count = 0;
	bool valid = true, text = true, line = true;

	/* Walk the way a caller decoding text would. */
	for (i = 0; i < len; i += n) {
		cp = ref = 0xffffffff;
		n = utf8_decode(s + i, len - i, &cp);
		rn = fuzz_utf8_reference(data + i, len - i, &ref);
		FUZZ_CHECK(n == rn);
		if (n == 0) {
			valid = text = line = false;
			break;
		}
		FUZZ_CHECK(cp == ref);
		FUZZ_CHECK(cp <= 0x10ffff);
		/* Encoding gives back the very bytes. */
		FUZZ_CHECK(utf8_encode(cp, enc) == n);
		FUZZ_CHECK(memcmp(enc, data + i, n) == 0);
		count++;
		if (fuzz_utf8_control(cp, true))
			text = false;
		if (fuzz_utf8_control(cp, false))
			line = false;
	}

	FUZZ_CHECK(utf8_valid(s, len) == valid);
	FUZZ_CHECK(utf8_valid_text(s, len, true) == text);
	FUZZ_CHECK(utf8_valid_text(s, len, false) == line);
	if (valid)
		FUZZ_CHECK(utf8_length(s, len) == count);
	/* Counting is defined on any bytes: at most one per byte. */
	FUZZ_CHECK(utf8_length(s, len) <= len);

	/* Every prefix that ends on a boundary of valid text is valid too. */
	if (valid && len > 0) {
		n = len - 1;
		while (n > 0 && (data[n] & 0xc0) == 0x80)
			n--;
		FUZZ_CHECK(utf8_valid(s, n));
		FUZZ_CHECK(utf8_length(s, n) == count - 1);
	}
	return 0;
}
