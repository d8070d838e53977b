/*
 * libFuzzer: a captcha answer through captcha_parse_answer (and the id and
 * lang checks that see the same outside text).
 */
#include <string.h>

#include "captcha.h"
#include "log.h"
#include "xmalloc.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char buf[64];
	int n;

	(void)argc;
	(void)argv;
	log_init("fuzz_captcha", LOG_LEVEL_ERROR, 0);
	/* The words the questions use read back as their numbers. */
	for (n = 0; n <= 100; n++) {
		FUZZ_CHECK(captcha_parse_answer(captcha_number_words(n,
		    CAPTCHA_LANG_DE, buf, sizeof buf)) == n);
		FUZZ_CHECK(captcha_parse_answer(captcha_number_words(n,
		    CAPTCHA_LANG_EN, buf, sizeof buf)) == n);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s, *upper;
	size_t i;
	int n, m;

	s = xmalloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';

	n = captcha_parse_answer(s);
	FUZZ_CHECK(n == -1 || (n >= 0 && n <= 100));

	/* ASCII case never matters ("Sieben", "SEVEN"). */
	upper = xstrdup(s);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] -= 'a' - 'A';
	m = captcha_parse_answer(upper);
	FUZZ_CHECK(m == n);
	free(upper);

	if (captcha_id_valid(s)) {
		FUZZ_CHECK(strlen(s) == CAPTCHA_ID_LEN);
		FUZZ_CHECK(strspn(s, "0123456789abcdef") == CAPTCHA_ID_LEN);
	}
	m = (int)captcha_lang_parse(s, CAPTCHA_LANG_EN);
	FUZZ_CHECK(m == CAPTCHA_LANG_DE || m == CAPTCHA_LANG_EN);

	free(s);
	return 0;
}
