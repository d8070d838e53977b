/*
 * SHA-1 (FIPS 180-4), for key names only: the Redis scripts name an
 * e-mail address's index and a known author by the SHA1 of their
 * lowercase form (redis.sha1hex), and the store computes the same names
 * in C to pass them in KEYS; and HMAC-SHA1 (RFC 2104), which is still a
 * sound MAC, for the captcha ids (captcha.c).
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
/* The digest as SHA1_LEN bytes. */
void sha1_final(struct sha1 *s, unsigned char *out);

#define SHA1_LEN 20

/* An HMAC-SHA1 key, its two padded blocks hashed once. */
struct sha1_hmac_key {
	struct sha1 inner, outer;
};

void sha1_hmac_init(struct sha1_hmac_key *k, const void *key, size_t keylen);
/* HMAC-SHA1 of data under k: out holds SHA1_LEN bytes. */
void sha1_hmac_k(const struct sha1_hmac_key *k, const void *data, size_t len,
    unsigned char *out);
/* The same with the key given each time. */
void sha1_hmac(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char *out);

#endif
