/*
 * Built-in checks that need no Redis: scored like rules and recorded under
 * their own names, so they show in `heinzelctl show` and in /metrics.
 * (Flood control and duplicates need Redis and live in the submit script.)
 */
#ifndef HEINZEL_CHECKS_H
#define HEINZEL_CHECKS_H

#include <stddef.h>

struct comment;
struct config;
struct score;

#define CHECK_HONEYPOT		"HONEYPOT"
#define CHECK_TOO_MANY_LINKS	"TOO_MANY_LINKS"

/* Links in text: http(s):// URLs and bare www. names. */
size_t checks_count_links(const char *s, size_t len);

/* Add the built-in checks that fire for c to s. */
void checks_score(const struct config *cfg, const struct comment *c, struct score *s);

#endif
