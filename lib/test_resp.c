/* Unit tests of RESP commands: byte for byte what hiredis would send. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

/* Ours against redisFormatCommandArgv for one command. */
static void
resp_check(int argc, const char **argv, const size_t *argvlen)
{
	char *want, *got;
	long long wlen;
	size_t size;

	wlen = redisFormatCommandArgv(&want, argc, argv, argvlen);
	assert_true(wlen > 0);
	size = resp_command_size(argc, argvlen);
	assert_int_equal(size, (size_t)wlen);
	/* One byte more, to see nothing is written past size. */
	got = malloc(size + 1);
	assert_non_null(got);
	got[size] = 'X';
	assert_int_equal(resp_command_write(got, argc, argv, argvlen), size);
	assert_memory_equal(got, want, size);
	assert_int_equal(got[size], 'X');
	free(got);
	redisFreeCommand(want);
}

static void
test_simple(void **state)
{
	const char *argv[] = { "GET", "k" };
	size_t argvlen[] = { 3, 1 };
	char out[32];

	(void)state;
	assert_int_equal(resp_command_write(out, 2, argv, argvlen), 20);
	assert_memory_equal(out, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 20);
	resp_check(2, argv, argvlen);
}

/* Empty and binary arguments, and lengths across each power of ten. */
static void
test_lengths(void **state)
{
	static char big[123457];
	const char *argv[8];
	size_t argvlen[8], sizes[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 9999,
	    10000, 99999, 100000, 123457 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7);		/* NULs, CR and LF among them */
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		argv[0] = "EVALSHA";
		argvlen[0] = 7;
		argv[1] = big;
		argvlen[1] = sizes[i];
		argv[2] = "";
		argvlen[2] = 0;
		resp_check(3, argv, argvlen);
	}
	/* Argument counts over 9, as the submit script's. */
	{
		const char *many[120];
		size_t manylen[120];

		for (j = 0; j < 120; j++) {
			many[j] = big + j;
			manylen[j] = j % 13;
		}
		resp_check(1, many, manylen);
		resp_check(10, many, manylen);
		resp_check(120, many, manylen);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
