/*
 * sd_notify(3) by hand.  A plain AF_UNIX datagram is the whole protocol, so
 * heinzeld needs no libsystemd; systemd learns the sender from the socket's
 * credentials, which the kernel adds by itself.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

/* Send one state message; failures are logged, never fatal. */
static void
sdnotify_send(const char *msg)
{
	struct sockaddr_un sun;
	const char *path;
	size_t len;
	int fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || path[0] == '\0')
		return;
	/* A path, or '@' for Linux's abstract namespace. */
	if (path[0] != '/' && path[0] != '@') {
		log_warnx("NOTIFY_SOCKET=%s: not a Unix socket, not notifying",
		    path);
		return;
	}
	len = strlen(path);
	if (len >= sizeof sun.sun_path) {
		log_warnx("NOTIFY_SOCKET: path too long, not notifying");
		return;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return;
	}
	/* The exact length: an abstract name may not carry a trailing NUL. */
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		log_warn("NOTIFY_SOCKET %s: sendto", path);
	else
		log_debug("sd_notify: %.*s", (int)strcspn(msg, "\n"), msg);
	close(fd);
}

void
sdnotify_ready(void)
{
	sdnotify_send("READY=1\nSTATUS=listening");
}

void
sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/*
	 * systemd 253 and later match the reload to this timestamp
	 * (Type=notify-reload); older ones ignore it.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	sdnotify_send(msg);
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1\nSTATUS=finishing the requests in flight");
}
