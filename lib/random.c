/* Buffered arc4random: see random.h. */
#include <stdlib.h>
#include <string.h>

#include "random.h"

#define RANDOM_POOL 512

static unsigned char random_pool[RANDOM_POOL];
static size_t random_left;

void
random_bytes(void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t n;

	if (len >= RANDOM_POOL) {
		arc4random_buf(buf, len);
		return;
	}
	while (len > 0) {
		if (random_left == 0) {
			arc4random_buf(random_pool, sizeof random_pool);
			random_left = sizeof random_pool;
		}
		n = len < random_left ? len : random_left;
		/* Hand out from the end and wipe what was handed out. */
		memcpy(out, random_pool + random_left - n, n);
		memset(random_pool + random_left - n, 0, n);
		random_left -= n;
		out += n;
		len -= n;
	}
}

uint32_t
random_u32(void)
{
	uint32_t v;

	random_bytes(&v, sizeof v);
	return v;
}

uint32_t
random_uniform(uint32_t bound)
{
	uint32_t v, min;

	if (bound < 2)
		return 0;
	/* 2^32 mod bound: values below it would favour small results. */
	min = -bound % bound;
	do
		v = random_u32();
	while (v < min);
	return v % bound;
}
