/*
 * Redis commands in RESP (see resp.h).
 */
#include <string.h>

#include "resp.h"

/* Digits of v in decimal. */
static size_t
resp_digits(size_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* c, v in decimal and CRLF at p; returns the bytes written. */
static size_t
resp_header(char *p, char c, size_t v)
{
	size_t n = resp_digits(v), i;

	p[0] = c;
	for (i = n; i > 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	p[n + 1] = '\r';
	p[n + 2] = '\n';
	return n + 3;
}

size_t
resp_command_size(int argc, const size_t *argvlen)
{
	size_t n;
	int i;

	n = 3 + resp_digits((size_t)argc);
	for (i = 0; i < argc; i++)
		n += 3 + resp_digits(argvlen[i]) + argvlen[i] + 2;
	return n;
}

size_t
resp_command_write(char *out, int argc, const char *const *argv,
    const size_t *argvlen)
{
	char *p = out;
	int i;

	p += resp_header(p, '*', (size_t)argc);
	for (i = 0; i < argc; i++) {
		p += resp_header(p, '$', argvlen[i]);
		if (argvlen[i] > 0)
			memcpy(p, argv[i], argvlen[i]);
		p += argvlen[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	return (size_t)(p - out);
}
