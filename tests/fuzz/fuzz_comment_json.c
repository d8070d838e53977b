/*
 * libFuzzer: a JSON comment body through comment_from_json and validation;
 * and wherever the flat reader takes a body, jansson takes it too and
 * gives every field the same bytes.
 */
#include <string.h>

#include "comment.h"
#include "fault.h"
#include "log.h"
#include "utf8.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_comment_json", LOG_LEVEL_ERROR, 0);
	return 0;
}

static void
fuzz_comment_json_equal(const char *buf, size_t len)
{
	struct comment flat, tree;
	struct fault f;
	int i;

	if (!utf8_valid(buf, len))
		return;
	comment_init(&flat);
	comment_init(&tree);
	fault_clear(&f);
	if (comment_from_json_flat(&flat, buf, len) == 0) {
		FUZZ_CHECK(comment_from_json_tree(&tree, buf, len, &f) == 0);
		for (i = 0; i < CF__COUNT; i++) {
			FUZZ_CHECK((flat.field[i] == NULL) == (tree.field[i] == NULL));
			FUZZ_CHECK(flat.len[i] == tree.len[i]);
			if (flat.field[i] != NULL)
				FUZZ_CHECK(memcmp(flat.field[i], tree.field[i],
				    flat.len[i] + 1) == 0);
		}
	} else {
		/* Declined: nothing written. */
		for (i = 0; i < CF__COUNT; i++)
			FUZZ_CHECK(flat.field[i] == NULL);
	}
	comment_free(&flat);
	comment_free(&tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_comment_run(comment_from_json, data, len);
	fuzz_comment_json_equal((const char *)data, len);
	return 0;
}
