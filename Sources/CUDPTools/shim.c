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
    // Written by the engines' threads, read by a signal handler: each slot is one atomic int, -1 when free.
    volatile sig_atomic_t watched[CUDPTOOLS_WATCHED];
};

cudptools_stop *cudptools_stop_create(void) {
    cudptools_stop *stop = malloc(sizeof *stop);
    if (stop == NULL) return NULL;
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) stop->watched[i] = -1;
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
        int fd = stop->watched[i];
        if (fd >= 0) shutdown(fd, SHUT_RD);
    }
    errno = saved;
}

int cudptools_stop_watch(cudptools_stop *stop, int fd) {
    for (int i = 0; i < CUDPTOOLS_WATCHED; i++) {
        if (__sync_bool_compare_and_swap(&stop->watched[i], -1, fd)) return i;
    }
    return -1;
}

void cudptools_stop_unwatch(cudptools_stop *stop, int slot) {
    if (slot >= 0 && slot < CUDPTOOLS_WATCHED) __sync_lock_test_and_set(&stop->watched[slot], -1);
}

static cudptools_stop *volatile signalled_stop = NULL;
static volatile sig_atomic_t stop_signal_number = 0;

static void record_stop(int signo) {
    stop_signal_number = signo;
    cudptools_stop *stop = signalled_stop;
    if (stop != NULL) cudptools_stop_raise(stop);
}

void cudptools_stop_on_signals(cudptools_stop *stop) {
    signalled_stop = stop;
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

int cudptools_stop_signal_number(void) { return stop_signal_number; }
