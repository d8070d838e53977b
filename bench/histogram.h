/*
 * A log-linear latency histogram in microseconds, in the manner of
 * HdrHistogram: exact below 1024 us, then 512 sub-buckets per power of
 * two (under 0.2 % error) up to about 12 days.
 */
#ifndef HEINZEL_HISTOGRAM_H
#define HEINZEL_HISTOGRAM_H

#include <stdint.h>

struct histogram {
	uint64_t *counts;
	uint64_t total;
	uint64_t min;
	uint64_t max;
	double sum;
};

void histogram_init(struct histogram *h);
void histogram_free(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t us);
void histogram_merge(struct histogram *to, const struct histogram *from);

/* The value at percentile p (0..100), as the highest value of its bucket. */
uint64_t histogram_percentile(const struct histogram *h, double p);
double histogram_mean(const struct histogram *h);

#endif
