/*
 * Random numbers for ids and questions.  glibc's arc4random makes one
 * getrandom(2) system call per call; this keeps a small buffer of its
 * output, refilled as it runs out, so a captcha costs no system call.
 * The bytes are the kernel's CSPRNG output all the same.  One thread.
 */
#ifndef HEINZEL_RANDOM_H
#define HEINZEL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void random_bytes(void *buf, size_t len);
uint32_t random_u32(void);
/* Uniform in [0, bound), bound > 0, without modulo bias. */
uint32_t random_uniform(uint32_t bound);

#endif
