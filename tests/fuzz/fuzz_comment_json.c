/* libFuzzer: a JSON comment body through comment_from_json and validation. */
#include "comment.h"
#include "log.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_comment_json", LOG_LEVEL_ERROR, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_comment_run(comment_from_json, data, len);
	return 0;
}
