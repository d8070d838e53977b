/*
 * libFuzzer: an application/x-www-form-urlencoded body through
 * comment_from_form and validation, and comment_form_decode on its own.
 */
#include <string.h>

#include "comment.h"
#include "log.h"
#include "xmalloc.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_comment_form", LOG_LEVEL_ERROR, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *out;
	long n;

	/* Decoding never grows the text and always terminates it. */
	out = xmalloc(len + 1);
	n = comment_form_decode((const char *)data, len, out);
	FUZZ_CHECK(n >= -1 && n <= (long)len);
	if (n >= 0)
		FUZZ_CHECK(out[n] == '\0');
	free(out);

	fuzz_comment_run(comment_from_form, data, len);
	return 0;
}
