// For tests only: moving a thread into a network namespace, and pipes close-on-exec from the start, which Swift
// cannot reach because glibc declares setns(2) and pipe2(2) under _GNU_SOURCE alone. The library has no use for
// either, so they stay out of CUDP.
#ifndef CNAMESPACE_TESTING_H
#define CNAMESPACE_TESTING_H

/// Moves the calling thread into the network namespace open at `fd` (setns(2) with CLONE_NEWNET); returns -1
/// with errno set on failure, ENOSYS where the platform has no namespaces.
int enter_network_namespace(int fd);

/// A pipe whose two ends are close-on-exec from the moment they exist (pipe2(2) with O_CLOEXEC), so that a child
/// another thread spawns meanwhile cannot inherit them; pipe(2) then fcntl(2) elsewhere. Returns -1 with errno
/// set on failure.
int close_on_exec_pipe(int fds[2]);

#endif
