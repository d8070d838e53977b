/*
 * libFuzzer: a heinzel.conf through config_load_buffer over the defaults.
 * A file that loads must dump to a file that loads again to the same
 * configuration (config_dump is what heinzelctl shows and people copy).
 */
#include <string.h>

#include "config.h"
#include "log.h"
#include "fuzz.h"

#define FUZZ_CONFIG_NAME	"fuzz.conf"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_config", LOG_LEVEL_ERROR, 0);
	return 0;
}

/* Every error line names the buffer. */
static void
fuzz_config_errors(const char *errors, const char *name)
{
	const char *line = errors, *nl;
	size_t nlen = strlen(name);

	FUZZ_CHECK(errors != NULL && *errors != '\0');
	for (;;) {
		FUZZ_CHECK(strncmp(line, name, nlen) == 0 && line[nlen] == ':');
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		line = nl + 1;
	}
}

static char *
fuzz_config_dump(const struct config *cfg, size_t *len)
{
	char *buf;
	FILE *fp;

	FUZZ_CHECK((fp = open_memstream(&buf, len)) != NULL);
	config_dump(cfg, fp);
	FUZZ_CHECK(fclose(fp) == 0);
	return buf;
}

static void
fuzz_config_list(char **list)
{
	size_t i;

	FUZZ_CHECK(list != NULL);
	for (i = 0; list[i] != NULL; i++)
		FUZZ_CHECK(list[i][0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config *cfg, *again;
	char *errors = (char *)1, *dump, *dump2;
	size_t dlen, dlen2;

	cfg = config_new();
	if (config_load_buffer(cfg, FUZZ_CONFIG_NAME, (const char *)data, len,
	    &errors) != 0) {
		fuzz_config_errors(errors, FUZZ_CONFIG_NAME);
		free(errors);
		config_free(cfg);
		return 0;
	}
	FUZZ_CHECK(errors == NULL);
	FUZZ_CHECK(cfg->socket != NULL && cfg->socket[0] != '\0');
	FUZZ_CHECK(cfg->redis_prefix != NULL && cfg->redis_prefix[0] != '\0');
	FUZZ_CHECK(cfg->hold_score <= cfg->reject_score);
	FUZZ_CHECK(cfg->body_max_chars >= 1);
	fuzz_config_list(cfg->allowed_origins);
	fuzz_config_list(cfg->trusted_proxies);
	fuzz_config_list(cfg->notify_admin);

	dump = fuzz_config_dump(cfg, &dlen);
	again = config_new();
	errors = NULL;
	if (config_load_buffer(again, "dump", dump, dlen, &errors) != 0) {
		fprintf(stderr, "dump does not load:\n%s\n---\n%s\n", errors,
		    dump);
		FUZZ_CHECK(!"config_dump output loads");
	}
	dump2 = fuzz_config_dump(again, &dlen2);
	if (dlen != dlen2 || memcmp(dump, dump2, dlen) != 0) {
		fprintf(stderr, "dump changes on reload:\n%s\n---\n%s\n", dump,
		    dump2);
		FUZZ_CHECK(!"config_dump output reloads unchanged");
	}
	free(dump2);
	free(dump);
	config_free(again);
	config_free(cfg);
	return 0;
}
