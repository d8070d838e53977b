/*
 * Trusted frontends: the key file and the check of "Authorization: Bearer
 * KEY".  See frontend.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontend.h"
#include "xmalloc.h"

#define FRONTEND_KEY_MAX 512

struct frontend_key {
	size_t len;
	char key[FRONTEND_KEY_MAX + 1];
};

static int
frontend_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int
frontend_key_load(const char *path, struct frontend_key **key, char **cause)
{
	struct frontend_key *k;
	char buf[FRONTEND_KEY_MAX + 2];
	size_t len;
	FILE *fp;

	*key = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(cause, "[server] frontend_key_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof buf, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len < FRONTEND_KEY_MIN || len > FRONTEND_KEY_MAX ||
	    !frontend_printable(buf, len)) {
		xasprintf(cause, "[server] frontend_key_file %s: the key must be "
		    "%d to %d printable characters without spaces on the first "
		    "line (e.g. openssl rand -hex 32)", path, FRONTEND_KEY_MIN,
		    FRONTEND_KEY_MAX);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	k = xcalloc(1, sizeof *k);
	memcpy(k->key, buf, len);
	k->len = len;
	explicit_bzero(buf, sizeof buf);
	*key = k;
	return 0;
}

void
frontend_key_free(struct frontend_key *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, sizeof *key);
	free(key);
}

bool
frontend_authorized(const struct frontend_key *key, const char *authorization)
{
	const char *given;
	size_t len, i;
	unsigned char diff;

	if (key == NULL || authorization == NULL)
		return false;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	given = authorization + 7;
	while (*given == ' ')
		given++;
	len = strlen(given);
	/*
	 * Every byte of the given key is compared, against the key repeated:
	 * the time depends on the length sent, never on where it differs.
	 */
	diff = len != key->len;
	for (i = 0; i < len; i++)
		diff |= (unsigned char)(given[i] ^ key->key[i % key->len]);
	return diff == 0;
}
