/* Built-in checks: the honeypot field and the number of links. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "comment.h"
#include "config.h"
#include "score.h"

static bool
checks_prefix(const char *s, size_t len, size_t i, const char *word)
{
	size_t n = strlen(word);

	return len - i >= n && strncasecmp(s + i, word, n) == 0;
}

size_t
checks_count_links(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		/* Every word starts with h or w: skip the rest unlooked at. */
		if ((s[i] | 0x20) != 'h' && (s[i] | 0x20) != 'w')
			continue;
		if (checks_prefix(s, len, i, "http://") ||
		    checks_prefix(s, len, i, "https://")) {
			n++;
			i += 6;
		} else if (checks_prefix(s, len, i, "www.") &&
		    (i < 2 || s[i - 1] != '/' || s[i - 2] != '/'))
			n++;
	}
	return n;
}

void
checks_score(const struct config *cfg, const struct comment *c, struct score *s)
{
	size_t links = 0;

	if (c->field[CF_HONEYPOT] != NULL && c->len[CF_HONEYPOT] > 0)
		score_add_part(s, SCORE_CHECK, CHECK_HONEYPOT,
		    cfg->honeypot_score, 1);
	if (cfg->max_links == 0)
		return;
	if (c->field[CF_BODY] != NULL)
		links += checks_count_links(c->field[CF_BODY], c->len[CF_BODY]);
	if (c->field[CF_URL] != NULL)
		links++;
	if (links > cfg->max_links)
		score_add_part(s, SCORE_CHECK, CHECK_TOO_MANY_LINKS,
		    cfg->max_links_score, (unsigned int)links);
}
