/*
 * rulebench: the rule engine alone, at growing rule counts.  For each rule
 * directory, in a fresh child process: load and compile the rules (CPU and
 * wall time), then score every comment of the corpus (body and author)
 * with the literal prefilter on and off, and report CPU time per comment
 * (getrusage), max RSS and what the prefilter covers.  The hits with and
 * without the prefilter are compared comment by comment on the way.
 *
 *	rulebench [-n passes] [-q] [-G gen_rules.py [-N 50,500,5000]]
 *	    [-r DIR ...] [CORPUS.csv ...]
 *
 * -G copies the peer benchmark's generator (../shared/bench-peers/
 * gen_rules.py) to a temporary directory, runs it there for the rule
 * counts of -N and benchmarks the heinzel-N sets it writes, before any -r.
 * The first set is the base of the ratios.  Without a corpus, a few
 * built-in comments (for a quick check: -q).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comment.h"
#include "corpus.h"
#include "log.h"
#include "prefilter.h"
#include "rules.h"
#include "score.h"
#include "xmalloc.h"

#define RULEBENCH_DIRS	16
#define RULEBENCH_PYTHON	"/usr/bin/python3"

/* What one child measures, sent back through a pipe. */
struct rulebench_result {
	size_t		 rules;
	size_t		 literal_rules;		/* rules with literals */
	size_t		 literals;		/* distinct literals */
	size_t		 pf_bytes;		/* automaton and lists */
	double		 load_cpu, load_wall;	/* seconds */
	double		 us_on, us_off;		/* CPU per comment */
	unsigned long	 hits_on, hits_off;	/* per pass */
	unsigned long	 mismatches;
	long		 rss_rules_kib;		/* VmRSS growth at load */
	long		 maxrss_kib;
	int		 ok;
};

static double
rulebench_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
rulebench_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS of this process in KiB, or 0. */
static long
rulebench_rss(void)
{
	char line[256];
	long kib = 0;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void
rulebench_comment(struct comment *c, const struct corpus_entry *e)
{
	memset(c, 0, sizeof *c);
	c->field[CF_BODY] = e->text;
	c->len[CF_BODY] = e->text_len;
	c->field[CF_AUTHOR] = e->author;
	c->len[CF_AUTHOR] = strlen(e->author);
}

/* Score the corpus passes times; returns the hits of one pass. */
static unsigned long
rulebench_pass(struct ruleset *rs, const struct comment *cs, size_t n,
    int passes)
{
	struct score s;
	unsigned long hits = 0;
	size_t i;
	int p;

	for (p = 0; p < passes; p++) {
		for (i = 0; i < n; i++) {
			score_init(&s);
			ruleset_score(rs, &cs[i], &s);
			if (p == 0)
				hits += s.nhits;
			score_free(&s);
		}
	}
	return hits;
}

static bool
rulebench_same(const struct score *a, const struct score *b)
{
	size_t i;

	if (a->nhits != b->nhits || a->total != b->total)
		return false;
	for (i = 0; i < a->nhits; i++)
		if (strcmp(a->hits[i].name, b->hits[i].name) != 0 ||
		    a->hits[i].count != b->hits[i].count ||
		    a->hits[i].points != b->hits[i].points)
			return false;
	return true;
}

/* Rebuild the prefilter the rule set holds, to count what it covers. */
static void
rulebench_coverage(struct ruleset *rs, struct rulebench_result *r)
{
	struct prefilter *pf = prefilter_new();
	struct rule_info ri;
	uint32_t fields;
	size_t i;
	int f;

	for (i = 0; i < ruleset_count(rs); i++) {
		ruleset_rule(rs, i, &ri);
		if ((f = comment_field_lookup(ri.field, strlen(ri.field))) >= 0)
			fields = (uint32_t)1 << f;
		else
			fields = (1u << (CF_REFERRER + 1)) - 1;	/* any */
		prefilter_add(pf, i, fields, ri.pattern, strlen(ri.pattern),
		    ri.flags);
	}
	prefilter_build(pf);
	prefilter_stats(pf, &r->literal_rules, &r->literals, &r->pf_bytes);
	prefilter_free(pf);
}

/* The child's work for one rule directory. */
static void
rulebench_run(const char *dir, const struct corpus *corpus, int passes,
    struct rulebench_result *r)
{
	struct ruleset *rs;
	struct comment *cs;
	struct score on, off;
	struct rusage ru;
	char *errors = NULL;
	double c0, w0;
	long rss0;
	size_t i;

	memset(r, 0, sizeof *r);
	cs = xreallocarray(NULL, corpus->n, sizeof *cs);
	for (i = 0; i < corpus->n; i++)
		rulebench_comment(&cs[i], &corpus->v[i]);

	rss0 = rulebench_rss();
	c0 = rulebench_cpu();
	w0 = rulebench_wall();
	if ((rs = ruleset_load(dir, &errors)) == NULL) {
		fprintf(stderr, "%s:\n%s\n", dir, errors);
		free(errors);
		free(cs);
		return;
	}
	r->load_cpu = rulebench_cpu() - c0;
	r->load_wall = rulebench_wall() - w0;
	r->rss_rules_kib = rulebench_rss() - rss0;
	r->rules = ruleset_count(rs);

	/* Warm up (JIT stacks, caches), then the timed passes. */
	ruleset_set_prefilter(rs, true);
	rulebench_pass(rs, cs, corpus->n, 1);
	c0 = rulebench_cpu();
	r->hits_on = rulebench_pass(rs, cs, corpus->n, passes);
	r->us_on = (rulebench_cpu() - c0) * 1e6 / ((double)passes *
	    (double)corpus->n);

	ruleset_set_prefilter(rs, false);
	rulebench_pass(rs, cs, corpus->n, 1);
	c0 = rulebench_cpu();
	r->hits_off = rulebench_pass(rs, cs, corpus->n, passes);
	r->us_off = (rulebench_cpu() - c0) * 1e6 / ((double)passes *
	    (double)corpus->n);

	getrusage(RUSAGE_SELF, &ru);
	r->maxrss_kib = ru.ru_maxrss;

	/* The prefilter must not change a single hit. */
	for (i = 0; i < corpus->n; i++) {
		score_init(&on);
		score_init(&off);
		ruleset_set_prefilter(rs, true);
		ruleset_score(rs, &cs[i], &on);
		ruleset_set_prefilter(rs, false);
		ruleset_score(rs, &cs[i], &off);
		if (!rulebench_same(&on, &off))
			r->mismatches++;
		score_free(&on);
		score_free(&off);
	}
	rulebench_coverage(rs, r);
	ruleset_unref(rs);
	free(cs);
	r->ok = 1;
}

/* Run one directory in a child, so that max RSS is its own. */
static int
rulebench_child(const char *dir, const struct corpus *corpus, int passes,
    struct rulebench_result *r)
{
	int fd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fd) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(fd[0]);
		rulebench_run(dir, corpus, passes, r);
		n = write(fd[1], r, sizeof *r);
		_exit(n == (ssize_t)sizeof *r && r->ok ? 0 : 1);
	}
	close(fd[1]);
	memset(r, 0, sizeof *r);
	do
		n = read(fd[0], r, sizeof *r);
	while (n == -1 && errno == EINTR);
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof *r || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

static void
rulebench_usage(void)
{
	fprintf(stderr, "usage: rulebench [-n passes] [-q] [-G gen_rules.py "
	    "[-N 50,500,5000]] [-r DIR ...] [CORPUS.csv ...]\n");
	exit(2);
}

static int
rulebench_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a directory tree we made. */
static void
rulebench_rmtree(const char *dir)
{
	if (nftw(dir, rulebench_rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "rulebench: cannot remove %s\n", dir);
}

/* Copy a file; -1 on an error. */
static int
rulebench_copy(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n == -1)
		rc = -1;
	close(in);
	if (close(out) == -1)
		rc = -1;
	return rc;
}

/*
 * Run the generator in a fresh temporary directory for the counts in list
 * ("50,500,5000"); the directory, or NULL after an error message.
 */
static char *
rulebench_generate(const char *gen, const char *list)
{
	char *tmp, *script, *out;
	const char *p;
	char **args;
	size_t nargs = 0, i;
	int status;
	pid_t pid;

	xasprintf(&tmp, "%s/rulebench.XXXXXX", getenv("TMPDIR") != NULL ?
	    getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "rulebench: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	xasprintf(&script, "%s/gen_rules.py", tmp);
	xasprintf(&out, "%s/rules", tmp);
	if (rulebench_copy(gen, script) == -1) {
		fprintf(stderr, "rulebench: %s: %s\n", gen, strerror(errno));
		goto fail;
	}
	args = xcalloc(strlen(list) + 6, sizeof *args);
	args[nargs++] = xstrdup(RULEBENCH_PYTHON);
	args[nargs++] = xstrdup(script);
	args[nargs++] = xstrdup("--out");
	args[nargs++] = xstrdup(out);
	for (p = list; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")]
	    != '\0'))
		args[nargs++] = xstrndup(p, strcspn(p, ","));
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		/* Its progress lines would break the table. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		if (chdir(tmp) == -1)
			_exit(127);
		execv(args[0], args);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	for (i = 0; i < nargs; i++)
		free(args[i]);
	free(args);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rulebench: %s failed\n", gen);
		goto fail;
	}
	free(script);
	free(out);
	return tmp;
fail:
	rulebench_rmtree(tmp);
	free(script);
	free(out);
	free(tmp);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *dirs[RULEBENCH_DIRS], *gen = NULL, *counts = "50,500,5000";
	char *given[RULEBENCH_DIRS], *generated[RULEBENCH_DIRS], *tmp = NULL;
	struct rulebench_result res[RULEBENCH_DIRS], *r, *base;
	struct corpus corpus;
	char *cause;
	const char *p;
	int ch, i, ndirs = 0, ngiven = 0, ngenerated = 0, passes = 3;
	int failed = 0;

	log_init("rulebench", LOG_LEVEL_ERROR, 0);
	while ((ch = getopt(argc, argv, "G:N:n:qr:")) != -1) {
		switch (ch) {
		case 'G':
			gen = optarg;
			break;
		case 'N':
			if (strspn(optarg, "0123456789,") != strlen(optarg) ||
			    optarg[0] == '\0')
				rulebench_usage();
			counts = optarg;
			break;
		case 'n':
			if ((passes = atoi(optarg)) < 1)
				rulebench_usage();
			break;
		case 'q':
			passes = 1;
			break;
		case 'r':
			if (ngiven == RULEBENCH_DIRS)
				rulebench_usage();
			given[ngiven++] = optarg;
			break;
		default:
			rulebench_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (ngiven == 0 && gen == NULL)
		rulebench_usage();

	corpus_init(&corpus);
	for (i = 0; i < argc; i++) {
		if (corpus_load(&corpus, argv[i], &cause) == -1) {
			fprintf(stderr, "rulebench: %s\n", cause);
			free(cause);
			return 1;
		}
	}
	if (argc == 0)
		corpus_builtin(&corpus);

	if (gen != NULL) {
		if ((tmp = rulebench_generate(gen, counts)) == NULL)
			return 1;
		for (p = counts; *p != '\0'; p += strcspn(p, ",") +
		    (p[strcspn(p, ",")] != '\0')) {
			if (ngenerated + ngiven == RULEBENCH_DIRS)
				rulebench_usage();
			xasprintf(&generated[ngenerated], "%s/rules/heinzel-%.*s",
			    tmp, (int)strcspn(p, ","), p);
			dirs[ndirs++] = generated[ngenerated++];
		}
	}
	for (i = 0; i < ngiven; i++)
		dirs[ndirs++] = given[i];

	printf("corpus: %zu comments, %d timed passes per mode\n\n",
	    corpus.n, passes);
	printf("| rules | with literals | literals | compile s (CPU / wall) "
	    "| us/comment prefilter | us/comment all rules | speed-up "
	    "| hits | same hits | RSS growth MiB | max RSS MiB | prefilter KiB "
	    "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);
	for (i = 0; i < ndirs; i++) {
		r = &res[i];
		if (rulebench_child(dirs[i], &corpus, passes, r) == -1) {
			fprintf(stderr, "rulebench: %s failed\n", dirs[i]);
			failed = 1;
			break;
		}
		printf("| %zu | %zu | %zu | %.3f / %.3f | %.1f | %.1f | %.1fx "
		    "| %lu | %s | %.1f | %.1f | %.0f |\n", r->rules,
		    r->literal_rules, r->literals, r->load_cpu, r->load_wall,
		    r->us_on, r->us_off, r->us_on > 0 ? r->us_off / r->us_on :
		    0, r->hits_on, r->mismatches == 0 &&
		    r->hits_on == r->hits_off ? "yes" : "NO", r->rss_rules_kib /
		    1024.0, r->maxrss_kib / 1024.0, r->pf_bytes / 1024.0);
		fflush(stdout);
		if (r->mismatches != 0 || r->hits_on != r->hits_off)
			failed = 1;
	}
	base = &res[0];
	if (!failed && ndirs > 1) {
		printf("\nCPU per comment relative to %zu rules:\n",
		    base->rules);
		for (i = 1; i < ndirs; i++)
			printf("  %zu rules: %.2fx with the prefilter, %.2fx "
			    "without\n", res[i].rules, res[i].us_on /
			    base->us_on, res[i].us_off / base->us_off);
	}
	for (i = 0; i < ndirs; i++)
		if (res[i].mismatches != 0 || res[i].hits_on != res[i].hits_off)
			fprintf(stderr, "rulebench: %s: the prefilter changed "
			    "hits\n", dirs[i]);
	corpus_free(&corpus);
	for (i = 0; i < ngenerated; i++)
		free(generated[i]);
	if (tmp != NULL) {
		rulebench_rmtree(tmp);
		free(tmp);
	}
	return failed;
}
