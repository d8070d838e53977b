/*
 * Trusted frontends: a blog's own code (e.g. the WordPress plugin) proves
 * itself with a shared key in "Authorization: Bearer KEY".  Socket access
 * alone proves nothing, since a web server may proxy a public form
 * straight to the socket.  Only a frontend with the key may vouch for a
 * person (a logged-in user skips the captcha) and use POST /v1/learn.
 */
#ifndef HEINZEL_FRONTEND_H
#define HEINZEL_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

struct frontend_key;

/*
 * Read the key from path: the file's first line, at least
 * FRONTEND_KEY_MIN bytes of printable ASCII.  An empty path gives a NULL
 * key (no frontend is trusted) and 0; -1 with *cause (caller frees) when
 * the file cannot be read or the key is unfit.  The key is never logged.
 */
#define FRONTEND_KEY_MIN 32
int frontend_key_load(const char *path, struct frontend_key **key, char **cause);
void frontend_key_free(struct frontend_key *key);

/*
 * Whether an Authorization header value carries the key, compared in
 * constant time.  False for a NULL key or header.
 */
bool frontend_authorized(const struct frontend_key *key, const char *authorization);

#endif
