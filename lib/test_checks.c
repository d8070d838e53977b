/* Unit tests of the built-in checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "checks.h"
#include "comment.h"
#include "config.h"
#include "score.h"

static size_t
links(const char *s)
{
	return checks_count_links(s, strlen(s));
}

static void
test_count_links(void **state)
{
	(void)state;
	assert_int_equal(links(""), 0);
	assert_int_equal(links("no links here, just www"), 0);
	assert_int_equal(links("see http://a.example"), 1);
	assert_int_equal(links("HTTPS://A.EXAMPLE and https://b.example/x"), 2);
	assert_int_equal(links("www.example.org"), 1);
	/* One link, not two: the www. belongs to the URL before it. */
	assert_int_equal(links("http://www.example.org"), 1);
	assert_int_equal(links("www.a.example www.b.example http://c.example"), 3);
	assert_int_equal(links("http:/"), 0);
}

static const char *
hit(const struct score *s, size_t i)
{
	return i < s->nhits ? s->hits[i].name : "";
}

static void
test_checks(void **state)
{
	struct config *cfg = config_new();
	struct comment c;
	struct score s;

	(void)state;
	comment_init(&c);
	comment_set(&c, CF_BODY, "a http://1.example b http://2.example", 37);

	score_init(&s);
	checks_score(cfg, &c, &s);
	assert_int_equal(s.nhits, 0);
	score_free(&s);

	comment_set(&c, CF_HONEYPOT, "x", 1);
	score_init(&s);
	checks_score(cfg, &c, &s);
	assert_int_equal(s.nhits, 1);
	assert_string_equal(hit(&s, 0), CHECK_HONEYPOT);
	assert_true(s.total == cfg->honeypot_score);
	score_free(&s);

	/* Body links and the url field count together; at the limit is fine. */
	comment_set(&c, CF_HONEYPOT, NULL, 0);
	cfg->max_links = 3;
	comment_set(&c, CF_URL, "https://me.example", 18);
	score_init(&s);
	checks_score(cfg, &c, &s);
	assert_int_equal(s.nhits, 0);
	score_free(&s);

	cfg->max_links = 2;
	score_init(&s);
	checks_score(cfg, &c, &s);
	assert_int_equal(s.nhits, 1);
	assert_string_equal(hit(&s, 0), CHECK_TOO_MANY_LINKS);
	assert_int_equal(s.hits[0].count, 3);
	assert_true(s.total == cfg->max_links_score);
	score_free(&s);

	cfg->max_links = 0;	/* off */
	score_init(&s);
	checks_score(cfg, &c, &s);
	assert_int_equal(s.nhits, 0);
	score_free(&s);

	comment_free(&c);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_links),
		cmocka_unit_test(test_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
