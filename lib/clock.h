/* Milliseconds: of the wall clock (stored, compared across processes) or monotonic (timeouts). */
#ifndef HEINZEL_CLOCK_H
#define HEINZEL_CLOCK_H

#include <stdint.h>

/* Since the epoch: created_at, captcha issue times, due times in Redis. */
uint64_t clock_wall_ms(void);
/* Since some fixed point: deadlines within one process. */
uint64_t clock_mono_ms(void);

#endif
