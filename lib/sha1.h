/*
 * SHA-1 (FIPS 180-4), for key names only: the Redis scripts name an
 * e-mail address's index and a known author by the SHA1 of their
 * lowercase form (redis.sha1hex), and the store computes the same names
 * in C to pass them in KEYS.  Not for anything that needs a secure hash.
 */
#ifndef HEINZEL_SHA1_H
#define HEINZEL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_HEX_LEN 40

struct sha1 {
	uint32_t h[5];
	uint64_t len;		/* bytes so far */
	unsigned char buf[64];
	size_t used;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t len);
/* The digest as 40 lowercase hex digits and a NUL: out holds SHA1_HEX_LEN + 1. */
void sha1_hex(struct sha1 *s, char *out);

#endif
