#define _GNU_SOURCE
#include "CUDPTools.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

int cudptools_stop_create(int *readEnd, int *writeEnd) {
#ifdef __linux__
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return -1;
    *readEnd = fd;
    *writeEnd = fd;
    return 0;
#else
    int fds[2];
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
    *readEnd = fds[0];
    *writeEnd = fds[1];
    return 0;
#endif
}

void cudptools_stop_raise(int writeEnd) {
    int saved = errno;  // a signal handler must leave errno as it found it
#ifdef __linux__
    uint64_t one = 1;
    (void)write(writeEnd, &one, sizeof one);  // non-blocking: it cannot wait, so no EINTR to retry
#else
    char byte = 1;
    (void)write(writeEnd, &byte, 1);
#endif
    errno = saved;
}

static volatile sig_atomic_t stop_signal_number = 0;
static volatile sig_atomic_t stop_write_end = -1;

static void record_stop(int signo) {
    stop_signal_number = signo;
    int fd = stop_write_end;
    if (fd >= 0) cudptools_stop_raise(fd);
}

void cudptools_raise_on_stop_signals(int writeEnd) {
    stop_write_end = writeEnd;
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
