#define _GNU_SOURCE
#include "CUDPTools.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

// Enough for a server's workers; a socket past the last slot is waited for with poll(2) instead.
#define CUDPTOOLS_WATCHED 64
// A watched slot holds a descriptor, FREE, or BUSY while a raise shuts its descriptor: unwatch waits BUSY out,
// so the descriptor cannot be closed, and its number reused by another file, under the shutdown.
#define SLOT_FREE (-1)
#define SLOT_BUSY (-2)

// Tests only: called where a race would bite (cudptools_stop_set_test_hook), so that a test can hold a raise or
// a handler there and check that the other side waits.
static void (*test_hook)(int point, int value) = NULL;

static void at_test_point(int point, int value) {
    void (*hook)(int, int) = __atomic_load_n(&test_hook, __ATOMIC_SEQ_CST);
    if (hook != NULL) hook(point, value);
}

void cudptools_stop_set_test_hook(void (*hook)(int point, int value)) {
    __atomic_store_n(&test_hook, hook, __ATOMIC_SEQ_CST);
}

struct cudptools_stop {
    int readEnd;
    int writeEnd;
    // Written by the engines' threads, read by request() and a signal handler: each slot is an int used only
    // through lock-free atomics (async-signal-safe, and visible to Thread Sanitizer): a descriptor, SLOT_FREE
    // or SLOT_BUSY.
    int watched[CUDPTOOLS_WATCHED];
};

cudptools_stop *cudptools_stop_create(void) {
    cudptools_stop *stop = malloc(sizeof *stop);
    if (stop == NULL) return NULL;
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) __atomic_store_n(&stop->watched[i], SLOT_FREE, __ATOMIC_RELAXED);
#ifdef __linux__
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        int saved = errno;
        free(stop);
        errno = saved;
        return NULL;
    }
    stop->readEnd = fd;
    stop->writeEnd = fd;
#else
    int fds[2];
    if (pipe(fds) != 0) {
        int saved = errno;
        free(stop);
        errno = saved;
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
    stop->readEnd = fds[0];
    stop->writeEnd = fds[1];
#endif
    return stop;
}

void cudptools_stop_destroy(cudptools_stop *stop) {
    close(stop->readEnd);
    if (stop->writeEnd != stop->readEnd) close(stop->writeEnd);
    free(stop);
}

int cudptools_stop_descriptor(const cudptools_stop *stop) { return stop->readEnd; }

void cudptools_stop_raise(cudptools_stop *stop) {
    int saved = errno;  // a signal handler must leave errno as it found it
#ifdef __linux__
    uint64_t one = 1;
    (void)!write(stop->writeEnd, &one, sizeof one);  // non-blocking: it cannot wait, so no EINTR to retry
#else
    char byte = 1;
    (void)!write(stop->writeEnd, &byte, 1);
#endif
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) {
        int fd = __atomic_load_n(&stop->watched[i], __ATOMIC_SEQ_CST);
        // Claim the slot before the shutdown, so that its owner's unwatch (and so its close) waits until the
        // shutdown is done. A failed claim reloads the slot: a slot re-watched meanwhile is tried again (a few
        // times: a handler must not loop for ever), a freed one is left, a busy one is another raise's.
        for (int tries = 0; fd >= 0 && tries < 8; tries++) {
            if (__atomic_compare_exchange_n(&stop->watched[i], &fd, SLOT_BUSY, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                at_test_point(CUDPTOOLS_TEST_POINT_CLAIMED, fd);
                shutdown(fd, SHUT_RD);
                __atomic_store_n(&stop->watched[i], fd, __ATOMIC_SEQ_CST);
                break;
            }
        }
    }
    errno = saved;
}

int cudptools_stop_watch(cudptools_stop *stop, int fd) {
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) {
        int expected = SLOT_FREE;
        if (__atomic_compare_exchange_n(&stop->watched[i], &expected, fd, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            return i;
        }
    }
    return -1;
}

void cudptools_stop_unwatch(cudptools_stop *stop, int slot) {
    if (slot < 0 || slot >= CUDPTOOLS_WATCHED) return;
    int fd = __atomic_load_n(&stop->watched[slot], __ATOMIC_SEQ_CST);
    // A raise holds the slot only for one shutdown(2); a raise by a signal handler on this thread has ended
    // before this loop goes on, so the wait cannot deadlock.
    for (;;) {
        if (fd == SLOT_BUSY) {
            sched_yield();
            fd = __atomic_load_n(&stop->watched[slot], __ATOMIC_SEQ_CST);
            continue;
        }
        // On failure fd is the slot's value now: the same descriptor put back, or BUSY again.
        if (__atomic_compare_exchange_n(&stop->watched[slot], &fd, SLOT_FREE, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            return;
        }
    }
}

// Shared with the handler through lock-free atomics, as the watched slots are. Every access is sequentially
// consistent: cudptools_stop_forget_signals relies on one total order of the handler's count and pointer.
static cudptools_stop *signalled_stop = NULL;
static int stop_signal_number = 0;
// Handlers between their first and last access to signalled_stop's stop: a stop is freed only when no handler
// that may have read it is still running.
static int handlers_running = 0;

static void record_stop(int signo) {
    __atomic_add_fetch(&handlers_running, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&stop_signal_number, signo, __ATOMIC_SEQ_CST);
    cudptools_stop *stop = __atomic_load_n(&signalled_stop, __ATOMIC_SEQ_CST);
    if (stop != NULL) {
        at_test_point(CUDPTOOLS_TEST_POINT_HANDLER, signo);
        cudptools_stop_raise(stop);
    }
    __atomic_sub_fetch(&handlers_running, 1, __ATOMIC_SEQ_CST);
}

void cudptools_stop_forget_signals(cudptools_stop *stop) {
    cudptools_stop *expected = stop;
    // Only this stop: one made later has the handlers now, and keeps them.
    __atomic_compare_exchange_n(&signalled_stop, &expected, NULL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    // A handler that read the pointer before it changed counted itself first, so it is seen here until it
    // ends; one that counts itself after this load reads the pointer after it changed. A handler on this
    // thread ends before this loop goes on, so the wait cannot deadlock.
    while (__atomic_load_n(&handlers_running, __ATOMIC_SEQ_CST) != 0) sched_yield();
}

void cudptools_stop_on_signals(cudptools_stop *stop) {
    __atomic_store_n(&signalled_stop, stop, __ATOMIC_SEQ_CST);
    if (stop == NULL) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int cudptools_stop_signal_number(void) { return __atomic_load_n(&stop_signal_number, __ATOMIC_SEQ_CST); }
