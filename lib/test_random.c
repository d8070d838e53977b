/* Unit tests of the buffered random source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "random.h"

static void
test_uniform(void **state)
{
	unsigned int count[7] = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 70000; i++)
		count[random_uniform(7)]++;
	/* Each bucket expects 10000; 9000..11000 is over 10 sigma wide. */
	for (i = 0; i < 7; i++)
		assert_in_range(count[i], 9000, 11000);
	assert_int_equal(random_uniform(1), 0);
	assert_int_equal(random_uniform(0), 0);
}

static void
test_bytes(void **state)
{
	unsigned char a[1000], b[1000];
	unsigned int seen[256] = { 0 }, i, distinct = 0;

	(void)state;
	/* Across the pool's refills, and larger than the pool. */
	for (i = 0; i < 50; i++)
		random_bytes(a, 37);
	random_bytes(a, sizeof a);
	random_bytes(b, sizeof b);
	assert_memory_not_equal(a, b, sizeof a);
	for (i = 0; i < sizeof a; i++)
		seen[a[i]]++;
	for (i = 0; i < 256; i++)
		distinct += seen[i] > 0;
	assert_true(distinct > 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
