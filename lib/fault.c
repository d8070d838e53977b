/* Why a request failed, for the HTTP error body. */
#include <stdarg.h>
#include <stdio.h>

#include "fault.h"

int
fault_set(struct fault *f, int status, const char *error, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	f->error = error;
	f->field = field;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof f->message, fmt, ap);
	va_end(ap);
	return -1;
}

void
fault_clear(struct fault *f)
{
	f->status = 0;
	f->error = NULL;
	f->field = NULL;
	f->message[0] = '\0';
}
