/*
 * review: the pending queue one comment at a time, oldest first, one key
 * per decision.  On a terminal the key is read raw (no Enter needed) and
 * the terminal is put back however review ends: normally, on a signal, or
 * when suspended with ^Z.  Without a terminal one line is one decision, so
 * a script or a test can drive it through a pipe.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "xmalloc.h"

static struct termios ctl_review_saved;
static volatile sig_atomic_t ctl_review_raw;

struct ctl_review {
	struct ctl *ctl;
	bool tty;
	char **skipped;
	size_t nskipped;
	size_t done[4];		/* by enum store_action */
};

/* Back to the terminal as it was; safe in a signal handler. */
static void
ctl_review_cooked(void)
{
	if (ctl_review_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &ctl_review_saved);
		ctl_review_raw = 0;
	}
}

/* One key at a time, no echo; ^C and ^Z keep working. */
static void
ctl_review_rawmode(void)
{
	struct termios t = ctl_review_saved;

	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		ctl_review_raw = 1;
}

static void
ctl_review_fatal_signal(int sig)
{
	ctl_review_cooked();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
ctl_review_stop_signal(int sig)
{
	int was = ctl_review_raw;
	sigset_t set;

	ctl_review_cooked();
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Continued. */
	signal(sig, ctl_review_stop_signal);
	if (was)
		ctl_review_rawmode();
}

static void
ctl_review_signals(void)
{
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = ctl_review_fatal_signal;
	for (i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
	sa.sa_handler = ctl_review_stop_signal;
	sigaction(SIGTSTP, &sa, NULL);
}

/* The next key, or 'q' at the end of input; 0 for nothing usable. */
static int
ctl_review_key(struct ctl_review *rv)
{
	char buf[16], *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	int key;

	fflush(stdout);
	if (!rv->tty) {
		if (getline(&line, &cap, stdin) <= 0) {
			free(line);
			printf("\n");
			return 'q';
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		key = *p == '\n' || *p == '\0' ? 0 : (unsigned char)*p;
		free(line);
		printf("%c\n", key ? key : ' ');
		return key;
	}
	ctl_review_rawmode();
	do
		n = read(STDIN_FILENO, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	ctl_review_cooked();
	if (n <= 0 || buf[0] == 4)	/* end of input or ^D */
		key = 'q';
	else if (buf[0] == 033 || (unsigned char)buf[0] >= 0x80)
		key = 0;		/* an arrow or other sequence */
	else
		key = (unsigned char)buf[0];
	printf("%c\n", key >= 0x20 && key < 0x7f ? key : ' ');
	return key;
}

/* The oldest pending comment not skipped, and how many are pending. */
static struct ctl_comment *
ctl_review_next(struct ctl_review *rv, const char *post, size_t *pending)
{
	struct ctl_filter f;
	struct ctl_comment **v, *c = NULL;
	size_t n, more, i, j;

	memset(&f, 0, sizeof f);
	f.status = STORE_PENDING;
	f.post = post;
	f.limit = rv->nskipped + 1;
	v = ctl_db_select(rv->ctl, &f, &n, &more);
	*pending = n + more;
	for (i = 0; i < n && c == NULL; i++) {
		for (j = 0; j < rv->nskipped; j++)
			if (strcmp(v[i]->id, rv->skipped[j]) == 0)
				break;
		if (j == rv->nskipped) {
			c = v[i];
			v[i] = NULL;
		}
	}
	ctl_comment_free_all(v, n);
	return c;
}

static void
ctl_review_skip(struct ctl_review *rv, const char *id)
{
	rv->skipped = xreallocarray(rv->skipped, rv->nskipped + 1,
	    sizeof *rv->skipped);
	rv->skipped[rv->nskipped++] = xstrdup(id);
}

/* Ask for the key until it is one we know; 'q' ends. */
static int
ctl_review_ask(struct ctl_review *rv)
{
	struct ctl *ctl = rv->ctl;
	int key;

	for (;;) {
		printf("%s[a]pprove [r]eject [s]pam [d]elete [n]ext [q]uit?%s ",
		    ctl_color(ctl, CTL_BOLD), ctl_color(ctl, CTL_RESET));
		key = ctl_review_key(rv);
		if (key != 0 && strchr("arsdnq", key) != NULL)
			return key;
		printf("Press a to approve, r to reject, s for spam, d to "
		    "delete, n for the next comment or q to quit.\n");
	}
}

int
ctl_review_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "post", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_review rv;
	struct ctl_comment *c;
	const char *post = NULL;
	enum store_action a;
	size_t pending, i, seen = 0;
	int ch, key;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1)
		if (ch == 'p')
			post = optarg;
	if (optind < argc)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);

	memset(&rv, 0, sizeof rv);
	rv.ctl = ctl;
	rv.tty = isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &ctl_review_saved) == 0;
	if (rv.tty) {
		atexit(ctl_review_cooked);
		ctl_review_signals();
	}

	for (;;) {
		if ((c = ctl_review_next(&rv, post, &pending)) == NULL) {
			printf("No %spending comments%s%s.\n",
			    seen ? "more " : "", post ? " on " : "",
			    post ? post : "");
			break;
		}
		seen++;
		printf("\n%s── %zu pending", ctl_color(ctl, CTL_DIM),
		    pending);
		if (rv.nskipped > 0)
			printf(", %zu skipped", rv.nskipped);
		printf(" ──%s\n", ctl_color(ctl, CTL_RESET));
		ctl_output_comment(ctl, c, stdout);
		key = ctl_review_ask(&rv);
		if (key == 'q') {
			ctl_comment_free(c);
			break;
		}
		if (key == 'n') {
			ctl_review_skip(&rv, c->id);
			ctl_comment_free(c);
			continue;
		}
		if (key == 'd') {
			printf("Delete %s for good? [y/N] ", c->id);
			if (ctl_review_key(&rv) != 'y') {
				printf("Kept.\n");
				ctl_comment_free(c);
				continue;	/* shown again */
			}
		}
		a = key == 'a' ? ACTION_APPROVE : key == 'r' ? ACTION_REJECT :
		    key == 's' ? ACTION_SPAM : ACTION_DELETE;
		/* Only if still pending: someone else may have decided. */
		if (ctl_moderate_one(ctl, c->id, a, 1U << STORE_PENDING, false,
		    NULL))
			rv.done[a]++;
		ctl_comment_free(c);
	}

	printf("%zu approved, %zu rejected, %zu spam, %zu deleted, %zu "
	    "skipped.\n", rv.done[ACTION_APPROVE], rv.done[ACTION_REJECT],
	    rv.done[ACTION_SPAM], rv.done[ACTION_DELETE], rv.nskipped);
	for (i = 0; i < rv.nskipped; i++)
		free(rv.skipped[i]);
	free(rv.skipped);
	return CTL_OK;
}
