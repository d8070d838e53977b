/*
 * A reader's data over HTTP: read the address's comments (asked again
 * with the keys the script names until it has them all), name their
 * hashed keys, run the export or erase with them; when the address got a
 * new comment in between, read again (privacy.h).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "subject.h"
#include "xmalloc.h"

#define SUBJECT_TRIES 20	/* reads before giving up on a busy address */

struct subject {
	struct db *db;
	const struct store *store;
	unsigned int ipv6_prefix;
	enum privacy_mode mode;
	char *email;
	struct privacy_read read;
	int tries;
	subject_cb *cb;
	void *arg;
};

static void subject_read(struct subject *s);

/* Answer and free s. */
static void
subject_done(struct subject *s, int status, json_t *body)
{
	s->cb(status, body, s->arg);
	privacy_read_free(&s->read);
	free(s->email);
	free(s);
}

static void
subject_ran_cb(redisReply *reply, void *arg)
{
	struct subject *s = arg;
	enum privacy_outcome o;
	const char *cause;

	if (privacy_subject_reply(reply, &o, &cause) != 0) {
		if (reply != NULL)
			log_warnx("redis: privacy: %s", cause);
		subject_done(s, 503, NULL);
		return;
	}
	if (o == PRIVACY_CHANGED) {
		(void)privacy_read_need(s->store, reply, &s->read);
		subject_read(s);
		return;
	}
	subject_done(s, 200, s->mode == PRIVACY_ERASE ?
	    privacy_erased_json(reply) : privacy_export_json(reply));
}

static void
subject_read_cb(redisReply *reply, void *arg)
{
	struct subject *s = arg;
	struct store_cmd cmd;
	const char *cause;
	int script = DB_PRIVACY_SCRIPT(PRIVACY_SCRIPT_SUBJECT);

	if (privacy_read_need(s->store, reply, &s->read)) {
		subject_read(s);	/* with the keys the script named */
		return;
	}
	if (privacy_read_parse(s->store, reply, s->ipv6_prefix, &s->read,
	    &cause) != 0) {
		if (reply != NULL)
			log_warnx("redis: privacy: %s", cause);
		subject_done(s, 503, NULL);
		return;
	}
	store_cmd_init(&cmd);
	privacy_cmd_subject(s->store, &cmd, db_script_sha(s->db, script),
	    s->mode, s->email, s->read.ids, s->read.keys, s->read.nkeys,
	    s->read.need, s->read.nneed);
	if (db_command(s->db, &cmd, script, subject_ran_cb, s) != 0)
		subject_done(s, 503, NULL);
}

static void
subject_read(struct subject *s)
{
	struct store_cmd cmd;
	int script = DB_PRIVACY_SCRIPT(PRIVACY_SCRIPT_SUBJECT);

	if (++s->tries > SUBJECT_TRIES) {
		log_warnx("privacy: an address kept getting new comments; "
		    "nothing done");
		subject_done(s, 503, NULL);
		return;
	}
	store_cmd_init(&cmd);
	privacy_cmd_subject(s->store, &cmd, db_script_sha(s->db, script),
	    PRIVACY_EXPORT, s->email, NULL, NULL, 0, s->read.need,
	    s->read.nneed);
	if (db_command(s->db, &cmd, script, subject_read_cb, s) != 0)
		subject_done(s, 503, NULL);
}

void
subject_run(struct db *db, const struct store *st, unsigned int ipv6_prefix,
    enum privacy_mode mode, const char *email, subject_cb *cb, void *arg)
{
	struct subject *s = xcalloc(1, sizeof *s);

	s->db = db;
	s->store = st;
	s->ipv6_prefix = ipv6_prefix;
	s->mode = mode;
	s->email = xstrdup(email);
	s->cb = cb;
	s->arg = arg;
	subject_read(s);
}
