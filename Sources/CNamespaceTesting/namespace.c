#define _GNU_SOURCE
#include "CNamespaceTesting.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef __linux__
#include <sched.h>
#endif

int enter_network_namespace(int fd) {
#ifdef __linux__
    return setns(fd, CLONE_NEWNET);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}

int close_on_exec_pipe(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}
