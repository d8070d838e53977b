/*
 * A Redis command in RESP, the form Redis reads: an array of bulk strings
 * ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), written straight into the caller's
 * buffer, so heinzeld hands hiredis a finished command and no copy of
 * each argument is formatted on the way.
 */
#ifndef HEINZEL_RESP_H
#define HEINZEL_RESP_H

#include <stddef.h>

/* Bytes the command of argc arguments of these lengths takes. */
size_t resp_command_size(int argc, const size_t *argvlen);
/* Write it to out, which holds resp_command_size() bytes; returns that. */
size_t resp_command_write(char *out, int argc, const char *const *argv,
    const size_t *argvlen);

#endif
