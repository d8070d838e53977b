/*
 * heinzel-ceiling: the two limits heinzeld's throughput is measured against.
 *
 *   heinzel-ceiling redis -s SOCKET ...	the Redis commands of one
 *	submission (EVALSHA submit, its captcha sealed, built by lib/store.c
 *	exactly as heinzeld builds it) sent straight to Redis, pipelined: what
 *	Redis alone can store.
 *   heinzel-ceiling http -U SOCKET		an evhttp server that answers
 *	GET /v1/captcha and POST /v1/comments with fixed bodies and does
 *	nothing else: what libevent's HTTP alone can serve.  Load it with
 *	heinzel-load like heinzeld.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>

#include "captcha.h"
#include "comment.h"
#include "corpus.h"
#include "score.h"
#include "store.h"
#include "xmalloc.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: heinzel-ceiling redis -s socket [-n count | -d seconds]\n"
	    "           [-p depth] [--corpus FILE]... [--no-captcha] [--json]\n"
	    "       heinzel-ceiling http -U socket\n"
	    "\n"
	    "redis: store comments straight into Redis with the commands heinzeld\n"
	    "       sends (EVALSHA submit per comment, its captcha sealed, keys under\n"
	    "       {ceiling}:), depth comments pipelined (default 32); prints\n"
	    "       comments/s and Redis CPU per comment.  Default -d 10.\n"
	    "http:  serve fixed answers to GET /v1/captcha and POST /v1/comments\n"
	    "       on the Unix socket until SIGINT or SIGTERM.\n");
}

static uint64_t
ceiling_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
ceiling_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- redis ---- */

/* used_cpu_sys + used_cpu_user of the Redis server, in seconds. */
static double
ceiling_redis_cpu(redisContext *rc)
{
	redisReply *r;
	const char *p;
	double sys = 0, user = 0;

	if ((r = redisCommand(rc, "INFO cpu")) == NULL)
		return 0;
	if (r->type == REDIS_REPLY_STRING) {
		if ((p = strstr(r->str, "used_cpu_sys:")) != NULL)
			sys = strtod(p + 13, NULL);
		if ((p = strstr(r->str, "used_cpu_user:")) != NULL)
			user = strtod(p + 14, NULL);
	}
	freeReplyObject(r);
	return sys + user;
}

static void
ceiling_cmd_send(redisContext *rc, struct store_cmd *cmd)
{
	redisAppendCommandArgv(rc, cmd->argc, cmd->argv, cmd->argvlen);
	store_cmd_free(cmd);
}

static int
ceiling_redis(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "corpus", required_argument, NULL, 'C' },
		{ "no-captcha", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct corpus corpus;
	struct store st;
	struct store_cmd cmd;
	struct store_submit sub;
	struct store_submit_result res;
	const struct corpus_entry *e;
	struct comment c;
	struct score score;
	struct captcha cap;
	struct captcha_key key;
	redisContext *rc;
	redisReply *r;
	const char *path = NULL, *cause;
	char sha[64], id[STORE_ID_LEN + 1], post[64], email[64], *body, *cause2;
	double duration = 0, cpu0, cpu1, secs;
	uint64_t count = 0, done = 0, seq = 0, t0, deadline = 0, errors = 0;
	unsigned int depth = 32, i, nreplies;
	int ch, captcha = 1, json = 0;
	struct rusage ru;

	corpus_init(&corpus);
	while ((ch = getopt_long(argc, argv, "s:n:d:p:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'p':
			depth = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			if (corpus_load(&corpus, optarg, &cause2) != 0) {
				fprintf(stderr, "heinzel-ceiling: %s\n", cause2);
				free(cause2);
				return 2;
			}
			break;
		case 'N':
			captcha = 0;
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || depth == 0 || depth > 100000) {
		usage(stderr);
		return 2;
	}
	if (count == 0 && duration <= 0)
		duration = 10;
	if (corpus.n == 0)
		corpus_builtin(&corpus);
	corpus_index(&corpus);

	if ((rc = redisConnectUnix(path)) == NULL || rc->err) {
		fprintf(stderr, "heinzel-ceiling: %s: %s\n", path,
		    rc ? rc->errstr : "cannot connect");
		return 1;
	}
	r = redisCommand(rc, "SCRIPT LOAD %s",
	    store_script_source(STORE_SCRIPT_SUBMIT));
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		fprintf(stderr, "heinzel-ceiling: SCRIPT LOAD failed\n");
		return 1;
	}
	snprintf(sha, sizeof sha, "%s", r->str);
	freeReplyObject(r);
	store_init(&st, "ceiling");
	captcha_key_init(&key, "ceiling");
	score_init(&score);

	cpu0 = ceiling_redis_cpu(rc);
	t0 = ceiling_now();
	if (duration > 0)
		deadline = t0 + (uint64_t)(duration * 1e9);
	for (;;) {
		if (count > 0 && done >= count)
			break;
		if (deadline > 0 && ceiling_now() >= deadline)
			break;
		/* One batch: depth comments, each one EVALSHA submit. */
		nreplies = 0;
		for (i = 0; i < depth && (count == 0 || done + i < count); i++) {
			e = corpus_pick(&corpus, -1, (uint64_t)arc4random() << 32 |
			    arc4random());
			seq++;
			comment_init(&c);
			snprintf(post, sizeof post, "ceiling-%u", (unsigned int)(seq % 8));
			snprintf(email, sizeof email, "reader%" PRIu64 "@example.org",
			    seq % 100000);
			xasprintf(&body, "%s #%" PRIx64 "-%" PRIu64, e->text,
			    t0, seq);
			comment_set(&c, CF_POST, post, strlen(post));
			comment_set(&c, CF_AUTHOR, e->author, strlen(e->author));
			comment_set(&c, CF_EMAIL, email, strlen(email));
			comment_set(&c, CF_BODY, body, strlen(body));
			comment_set(&c, CF_IP, "203.0.113.7", 11);
			comment_set(&c, CF_USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64)", 31);
			free(body);
			memset(&sub, 0, sizeof sub);
			sub.now_ms = ceiling_wall_ms();
			if (captcha) {
				/* Issued as heinzeld does, which asks Redis nothing. */
				captcha_generate(&cap, CAPTCHA_LANG_DE);
				captcha_seal(&cap, &key, sub.now_ms);
				comment_set(&c, CF_CAPTCHA_ID, cap.id, strlen(cap.id));
				sub.captcha = captcha_open(cap.id, &key,
				    cap.answer, sub.now_ms, 600, 0,
				    &sub.captcha_expires_ms);
			}
			sub.comment = &c;
			sub.score = &score;
			store_new_id(id, sub.now_ms);
			sub.id = id;
			sub.status = STORE_PENDING;
			sub.check_captcha = captcha;
			sub.request_id_ttl = 86400;
			sub.duplicate_window = 86400;
			store_cmd_init(&cmd);
			store_cmd_submit(&st, &cmd, sha, &sub);
			ceiling_cmd_send(rc, &cmd);
			nreplies++;
			comment_free(&c);
		}
		for (; nreplies > 0; nreplies--) {
			if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
				fprintf(stderr, "heinzel-ceiling: %s\n", rc->errstr);
				return 1;
			}
			if (r->type == REDIS_REPLY_ARRAY) {
				if (store_submit_reply(r, &res, &cause) != 0 ||
				    res.outcome != SUBMIT_STORED)
					errors++;
				else
					done++;
			} else if (r->type != REDIS_REPLY_STATUS)
				errors++;
			freeReplyObject(r);
		}
	}
	secs = (double)(ceiling_now() - t0) / 1e9;
	cpu1 = ceiling_redis_cpu(rc);
	getrusage(RUSAGE_SELF, &ru);
	if (json)
		printf("{\"comments\":%" PRIu64 ",\"errors\":%" PRIu64
		    ",\"duration_s\":%.3f,\"comments_per_s\":%.1f,"
		    "\"redis_cpu_s_per_1k\":%.4f,\"depth\":%u,\"captcha\":%s}\n",
		    done, errors, secs, (double)done / secs,
		    done ? (cpu1 - cpu0) / (double)done * 1000 : 0, depth,
		    captcha ? "true" : "false");
	else {
		printf("redis ceiling: %" PRIu64 " comments in %.3f s = %.1f/s "
		    "(%s, %u pipelined), %" PRIu64 " errors\n", done, secs,
		    (double)done / secs, captcha ? "EVALSHA submit, sealed captcha" :
		    "EVALSHA submit", depth, errors);
		printf("redis CPU: %.3f s = %.3f s per 1000 comments; client CPU "
		    "%.3f s\n", cpu1 - cpu0,
		    done ? (cpu1 - cpu0) / (double)done * 1000 : 0,
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	}
	score_free(&score);
	store_free(&st);
	redisFree(rc);
	corpus_free(&corpus);
	return errors == 0 && done > 0 ? 0 : 1;
}

/* ---- http ---- */

static void
ceiling_http_cb(struct evhttp_request *req, void *arg)
{
	static const char captcha[] = "{\"id\":\"0123456789abcdef0123456789abcdef\","
	    "\"question\":\"6 + 1 =\",\"question_text\":\"sechs plus eins\","
	    "\"expires_in\":600}\n";
	static const char accepted[] = "{\"id\":\"0123456789abcdef0123\","
	    "\"status\":\"pending\"}\n";
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = arg;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (m == EVHTTP_REQ_POST) {
		evbuffer_add_reference(buf, accepted, sizeof accepted - 1, NULL, NULL);
		evhttp_send_reply(req, 202, "Accepted", buf);
	} else {
		evbuffer_add_reference(buf, captcha, sizeof captcha - 1, NULL, NULL);
		evhttp_send_reply(req, 200, "OK", buf);
	}
}

static void
ceiling_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int
ceiling_http(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct evbuffer *buf;
	struct event *sigint, *sigterm;
	struct sockaddr_un sun;
	const char *path = NULL;
	int ch, fd;

	while ((ch = getopt(argc, argv, "U:")) != -1) {
		switch (ch) {
		case 'U':
			path = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || strlen(path) >= sizeof sun.sun_path) {
		usage(stderr);
		return 2;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 1024) == -1 || evutil_make_socket_nonblocking(fd) == -1) {
		fprintf(stderr, "heinzel-ceiling: %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	http = evhttp_new(base);
	buf = evbuffer_new();
	if (base == NULL || http == NULL || buf == NULL)
		return 1;
	evhttp_set_gencb(http, ceiling_http_cb, buf);
	if (evhttp_accept_socket(http, fd) != 0)
		return 1;
	sigint = evsignal_new(base, SIGINT, ceiling_signal_cb, base);
	sigterm = evsignal_new(base, SIGTERM, ceiling_signal_cb, base);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	event_base_dispatch(base);
	unlink(path);
	event_free(sigint);
	event_free(sigterm);
	evhttp_free(http);
	evbuffer_free(buf);
	event_base_free(base);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "redis") == 0)
		return ceiling_redis(argc - 1, argv + 1);
	if (strcmp(argv[1], "http") == 0)
		return ceiling_http(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
