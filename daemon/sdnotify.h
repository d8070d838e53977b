/*
 * Readiness for systemd's Type=notify, without libsystemd: sd_notify(3)'s
 * protocol is one datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET.  Outside
 * systemd the variable is unset and every call does nothing.
 */
#ifndef HEINZEL_SDNOTIFY_H
#define HEINZEL_SDNOTIFY_H

/* READY=1: the socket is listening (at start, and when a reload is done). */
void sdnotify_ready(void);
/* RELOADING=1: a SIGHUP reload has begun; sdnotify_ready() ends it. */
void sdnotify_reloading(void);
/* STOPPING=1: SIGTERM/SIGINT, draining the requests in flight. */
void sdnotify_stopping(void);

#endif
