/*
 * SHA-1 as FIPS 180-4 describes it (see sha1.h for what it is used for).
 */
#include <string.h>

#include "sha1.h"

#define SHA1_ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void
sha1_block(struct sha1 *s, const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = SHA1_ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = s->h[0];
	b = s->h[1];
	c = s->h[2];
	d = s->h[3];
	e = s->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = SHA1_ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = SHA1_ROL(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

void
sha1_init(struct sha1 *s)
{
	s->h[0] = 0x67452301;
	s->h[1] = 0xefcdab89;
	s->h[2] = 0x98badcfe;
	s->h[3] = 0x10325476;
	s->h[4] = 0xc3d2e1f0;
	s->len = 0;
	s->used = 0;
}

void
sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t n;

	s->len += len;
	while (len > 0) {
		n = 64 - s->used;
		if (n > len)
			n = len;
		memcpy(s->buf + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used == 64) {
			sha1_block(s, s->buf);
			s->used = 0;
		}
	}
}

void
sha1_final(struct sha1 *s, unsigned char *out)
{
	unsigned char pad[72];
	uint64_t bits = s->len * 8;
	size_t n, i;

	n = (s->used < 56 ? 56 : 120) - s->used;
	memset(pad, 0, sizeof pad);
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, n + 8);
	for (i = 0; i < SHA1_LEN; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void
sha1_hex(struct sha1 *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA1_LEN];
	size_t i;

	sha1_final(s, d);
	for (i = 0; i < SHA1_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[SHA1_HEX_LEN] = '\0';
}

void
sha1_hmac_init(struct sha1_hmac_key *hk, const void *key, size_t keylen)
{
	unsigned char k[64], pad[64];
	struct sha1 s;
	size_t i;

	memset(k, 0, sizeof k);
	if (keylen > sizeof k) {
		sha1_init(&s);
		sha1_update(&s, key, keylen);
		sha1_final(&s, k);
	} else
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&hk->inner);
	sha1_update(&hk->inner, pad, sizeof pad);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&hk->outer);
	sha1_update(&hk->outer, pad, sizeof pad);
	explicit_bzero(k, sizeof k);
	explicit_bzero(pad, sizeof pad);
}

void
sha1_hmac_k(const struct sha1_hmac_key *hk, const void *data, size_t len,
    unsigned char *out)
{
	unsigned char inner[SHA1_LEN];
	struct sha1 s;

	s = hk->inner;
	sha1_update(&s, data, len);
	sha1_final(&s, inner);
	s = hk->outer;
	sha1_update(&s, inner, sizeof inner);
	sha1_final(&s, out);
}

void
sha1_hmac(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char *out)
{
	struct sha1_hmac_key hk;

	sha1_hmac_init(&hk, key, keylen);
	sha1_hmac_k(&hk, data, len, out);
	explicit_bzero(&hk, sizeof hk);
}
