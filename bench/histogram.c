/*
 * Log-linear histogram.  Bucket i < HISTOGRAM_LINEAR holds the value i;
 * above, each power of two [2^m, 2^(m+1)) is split into HISTOGRAM_SUB
 * equal buckets, so the relative error stays under 1/HISTOGRAM_SUB.
 */
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "xmalloc.h"

#define HISTOGRAM_SUB_BITS 9
#define HISTOGRAM_SUB (1U << HISTOGRAM_SUB_BITS)		/* 512 */
#define HISTOGRAM_LINEAR (2U * HISTOGRAM_SUB)		/* 1024 */
#define HISTOGRAM_MAX_BITS 40				/* 2^40 us */
#define HISTOGRAM_BUCKETS \
	(HISTOGRAM_LINEAR + (HISTOGRAM_MAX_BITS - HISTOGRAM_SUB_BITS - 1) * HISTOGRAM_SUB)

static size_t
histogram_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < HISTOGRAM_LINEAR)
		return (size_t)v;
	if (v >= (1ULL << HISTOGRAM_MAX_BITS))
		v = (1ULL << HISTOGRAM_MAX_BITS) - 1;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	shift = msb - HISTOGRAM_SUB_BITS;
	return HISTOGRAM_LINEAR + (size_t)(shift - 1) * HISTOGRAM_SUB +
	    (size_t)((v >> shift) - HISTOGRAM_SUB);
}

/* The highest value that falls into bucket i. */
static uint64_t
histogram_value(size_t i)
{
	size_t k;
	unsigned int shift;
	uint64_t sub;

	if (i < HISTOGRAM_LINEAR)
		return i;
	k = i - HISTOGRAM_LINEAR;
	shift = (unsigned int)(k / HISTOGRAM_SUB) + 1;
	sub = k % HISTOGRAM_SUB + HISTOGRAM_SUB;
	return ((sub + 1) << shift) - 1;
}

void
histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof *h);
	h->counts = xcalloc(HISTOGRAM_BUCKETS, sizeof *h->counts);
	h->min = UINT64_MAX;
}

void
histogram_free(struct histogram *h)
{
	free(h->counts);
	h->counts = NULL;
}

void
histogram_record(struct histogram *h, uint64_t us)
{
	h->counts[histogram_index(us)]++;
	h->total++;
	h->sum += (double)us;
	if (us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
}

void
histogram_merge(struct histogram *to, const struct histogram *from)
{
	size_t i;

	for (i = 0; i < HISTOGRAM_BUCKETS; i++)
		to->counts[i] += from->counts[i];
	to->total += from->total;
	to->sum += from->sum;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

uint64_t
histogram_percentile(const struct histogram *h, double p)
{
	uint64_t want, seen = 0, v;
	size_t i;

	if (h->total == 0)
		return 0;
	if (p >= 100)
		return h->max;
	want = (uint64_t)(p / 100 * (double)h->total + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < HISTOGRAM_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			v = histogram_value(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

double
histogram_mean(const struct histogram *h)
{
	return h->total ? h->sum / (double)h->total : 0;
}
