// For tests only: moving a thread into a network namespace, which Swift cannot reach because glibc declares
// setns(2) under _GNU_SOURCE alone. The library has no use for it, so it stays out of CUDP.
#ifndef CNAMESPACE_TESTING_H
#define CNAMESPACE_TESTING_H

/// Moves the calling thread into the network namespace open at `fd` (setns(2) with CLONE_NEWNET); returns -1
/// with errno set on failure, ENOSYS where the platform has no namespaces.
int enter_network_namespace(int fd);

#endif
