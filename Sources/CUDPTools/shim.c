#define _GNU_SOURCE
#include "CUDPTools.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

// Enough for a server's workers; a socket past the last slot is waited for with poll(2) instead.
#define CUDPTOOLS_WATCHED 64

struct cudptools_stop {
    int readEnd;
    int writeEnd;
    // Written by the engines' threads, read by request() and a signal handler: each slot is an int used only
    // through lock-free atomics (async-signal-safe, and visible to Thread Sanitizer), -1 when free.
    int watched[CUDPTOOLS_WATCHED];
};

cudptools_stop *cudptools_stop_create(void) {
    cudptools_stop *stop = malloc(sizeof *stop);
    if (stop == NULL) return NULL;
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) __atomic_store_n(&stop->watched[i], -1, __ATOMIC_RELAXED);
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
        int fd = __atomic_load_n(&stop->watched[i], __ATOMIC_ACQUIRE);
        if (fd >= 0) shutdown(fd, SHUT_RD);
    }
    errno = saved;
}

int cudptools_stop_watch(cudptools_stop *stop, int fd) {
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) {
        int expected = -1;
        if (__atomic_compare_exchange_n(&stop->watched[i], &expected, fd, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            return i;
        }
    }
    return -1;
}

void cudptools_stop_unwatch(cudptools_stop *stop, int slot) {
    if (slot >= 0 && slot < CUDPTOOLS_WATCHED) __atomic_store_n(&stop->watched[slot], -1, __ATOMIC_RELEASE);
}

// Shared with the handler through lock-free atomics, as the watched slots are.
static cudptools_stop *signalled_stop = NULL;
static int stop_signal_number = 0;

static void record_stop(int signo) {
    __atomic_store_n(&stop_signal_number, signo, __ATOMIC_RELEASE);
    cudptools_stop *stop = __atomic_load_n(&signalled_stop, __ATOMIC_ACQUIRE);
    if (stop != NULL) cudptools_stop_raise(stop);
}

void cudptools_stop_on_signals(cudptools_stop *stop) {
    __atomic_store_n(&signalled_stop, stop, __ATOMIC_RELEASE);
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

int cudptools_stop_signal_number(void) { return __atomic_load_n(&stop_signal_number, __ATOMIC_ACQUIRE); }
