/* Unit tests for the CSV reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* A writable copy of s, as csv_init wants it. */
static char *
dup(const char *s, size_t *len)
{
	*len = strlen(s);
	return strdup(s);
}

static void
test_records_and_lines(void **state)
{
	struct csv_reader r;
	struct csv_record rec;
	size_t len;
	char *buf;

	(void)state;
	buf = dup("\xef\xbb\xbf" "AUTHOR,CONTENT,CLASS\r\n"
	    "Anna,\"Danke, \"\"gut\"\"\nzweite Zeile\",0\r\n"
	    "\n"
	    "Bob,plain,1", &len);
	csv_init(&r, buf, len);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.line, 1);
	assert_int_equal(csv_column(&rec, "content"), 1);
	assert_int_equal(csv_column(&rec, "Class"), 2);
	assert_int_equal(csv_column(&rec, "email"), -1);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.line, 2);
	assert_int_equal(rec.n, 3);
	assert_null(rec.error);
	assert_string_equal(rec.field[1], "Danke, \"gut\"\nzweite Zeile");
	assert_int_equal(rec.len[1], strlen("Danke, \"gut\"\nzweite Zeile"));
	assert_string_equal(rec.field[2], "0");
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.line, 4);
	assert_true(csv_blank(&rec));
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.line, 5);
	assert_string_equal(rec.field[0], "Bob");
	assert_string_equal(rec.field[2], "1");
	assert_int_equal(csv_next(&r, &rec), 0);
	assert_int_equal(rec.n, 0);
	assert_null(rec.error);
	free(buf);
}

static void
test_malformed(void **state)
{
	struct csv_reader r;
	struct csv_record rec;
	char big[256];
	size_t len;
	char *buf;
	int i;

	(void)state;
	buf = dup("a,b\n\"open,never closed\nx,y\n", &len);
	csv_init(&r, buf, len);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_null(rec.error);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.line, 2);
	assert_non_null(rec.error);
	assert_int_equal(rec.n, 1);
	assert_int_equal(csv_next(&r, &rec), 0);
	free(buf);

	/* More fields than kept: counted. */
	big[0] = '\0';
	for (i = 0; i < CSV_MAX_FIELDS + 5; i++)
		strcat(big, i ? ",f" : "f");
	buf = dup(big, &len);
	csv_init(&r, buf, len);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_int_equal(rec.n, CSV_MAX_FIELDS + 5);
	free(buf);

	/* Text after a closing quote is kept. */
	buf = dup("\"ab\"c,d\n", &len);
	csv_init(&r, buf, len);
	assert_int_equal(csv_next(&r, &rec), 1);
	assert_string_equal(rec.field[0], "abc");
	assert_null(rec.error);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_lines),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
