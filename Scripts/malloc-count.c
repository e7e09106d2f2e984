// An LD_PRELOAD malloc counter: prints `mallocs=N` on stderr when the process exits. Build and use:
//   gcc -O2 -shared -fPIC -o /tmp/malloc-count.so Scripts/malloc-count.c
//   LD_PRELOAD=/tmp/malloc-count.so .build/release/udp bench 127.0.0.1:9999 --duration 2
// Two runs of different length that report the same count allocate nothing per datagram.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <unistd.h>
static atomic_long count;
extern void *__libc_malloc(size_t);
void *malloc(size_t n) { atomic_fetch_add(&count, 1); return __libc_malloc(n); }
__attribute__((destructor)) static void report(void) { char b[64]; int k = snprintf(b, sizeof b, "mallocs=%ld\n", atomic_load(&count)); write(2, b, k); }
