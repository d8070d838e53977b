/* The HTTP/JSON API of heinzeld on a Unix socket (and optional loopback TCP). */
#ifndef HEINZEL_SERVER_H
#define HEINZEL_SERVER_H

#include <event2/event.h>

struct config;
struct db;
struct ruleset;
struct store;
struct metrics;

struct server;

/* cfg and rs stay the caller's; server_reload swaps them. */
struct server *server_new(struct event_base *base, struct db *db,
    const struct store *st, const struct config *cfg, struct ruleset *rs,
    struct metrics *m);
void server_free(struct server *srv);

/* Bind the Unix socket (replacing a stale one) and the TCP listener; -1 with *cause. */
int server_listen(struct server *srv, char **cause);

/* Use a new config and rule set from now on; requests in flight keep theirs. */
void server_reload(struct server *srv, const struct config *cfg, struct ruleset *rs);

/* Trust the frontend with this key from now on (NULL: none); takes key. */
struct frontend_key;
void server_set_frontend_key(struct server *srv, struct frontend_key *key);

/* Stop accepting; call done once no request is in flight any more. */
void server_shutdown(struct server *srv, void (*done)(void *), void *arg);
unsigned int server_active(const struct server *srv);
/* Connections open now. */
unsigned int server_connections(const struct server *srv);

#endif
