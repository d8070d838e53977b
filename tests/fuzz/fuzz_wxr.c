/*
 * libFuzzer: WordPress export files (lib/wxr.c), as heinzelctl learn
 * reads them.  The check-only parse and the one with a callback agree;
 * each comment holds what wxr.h promises; a fault names a line.
 */
#include <string.h>

#include "log.h"
#include "wxr.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_wxr", LOG_LEVEL_ERROR, 0);
	return 0;
}

static void
fuzz_wxr_comment(void *arg, const struct wxr_comment *c)
{
	unsigned long *n = arg;
	enum wxr_label label = wxr_label(c);
	int i;

	for (i = 0; i < WXR__COUNT; i++) {
		FUZZ_CHECK(c->field[i] != NULL);
		FUZZ_CHECK(c->len[i] <= WXR_FIELD_MAX);
		/* XML text holds no NUL: the length is the string's. */
		FUZZ_CHECK(strlen(c->field[i]) == c->len[i]);
	}
	FUZZ_CHECK(c->line >= 1);
	FUZZ_CHECK(label == WXR_LEAVE || label == WXR_HAM || label == WXR_SPAM);
	if (label == WXR_HAM)
		FUZZ_CHECK(strcmp(c->field[WXR_APPROVED], "1") == 0);
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *cause = NULL, *cause2 = NULL;
	unsigned long line = 0, line2 = 0, n = 0;
	int rc, rc2;

	rc = wxr_parse((const char *)data, size, NULL, NULL, &line, &cause);
	rc2 = wxr_parse((const char *)data, size, fuzz_wxr_comment, &n, &line2,
	    &cause2);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == rc2);
	if (rc != 0) {
		FUZZ_CHECK(cause != NULL && cause2 != NULL && *cause != '\0');
		FUZZ_CHECK(line >= 1 && line == line2);
	}
	return 0;
}
