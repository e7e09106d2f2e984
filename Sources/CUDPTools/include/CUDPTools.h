// C helpers for UDPTools' engines that Swift cannot write safely: the stop signal (an eventfd, and the
// sockets it shuts for reading) and the async-signal-safe SIGINT/SIGTERM handlers that raise it.
#ifndef CUDPTOOLS_H
#define CUDPTOOLS_H

/// A stop signal: a descriptor that becomes readable for good once raised, and the sockets whose blocked
/// receives it ends then.
typedef struct cudptools_stop cudptools_stop;

/// Makes a stop signal: on Linux one eventfd, elsewhere a pipe, both close-on-exec and non-blocking.
/// Returns NULL with errno set on failure.
cudptools_stop *cudptools_stop_create(void);
/// Closes its descriptors and frees it. A stop that was ever given to cudptools_stop_on_signals must first go
/// through cudptools_stop_forget_signals, and no socket may be watched any more.
void cudptools_stop_destroy(cudptools_stop *stop);
/// The descriptor to poll: readable once the signal is raised.
int cudptools_stop_descriptor(const cudptools_stop *stop);

/// Raises the signal: makes the descriptor readable and shuts every watched socket for reading
/// (`shutdown(SHUT_RD)`), which ends a receive blocked on it at once. Async-signal-safe, and never waits: it
/// claims each watched slot for the length of its shutdown, so a socket cannot be closed under it.
void cudptools_stop_raise(cudptools_stop *stop);

/// Watches socket `fd`: a raise shuts it for reading. Returns a slot to unwatch it by, or -1 when every slot
/// is taken (the caller then waits in poll(2) instead of blocking in a receive).
int cudptools_stop_watch(cudptools_stop *stop, int fd);
/// Stops watching the socket in `slot`, before it is closed: waits, if a raise is shutting it down, until
/// that shutdown is done, so the descriptor's number cannot be reused under it. Not async-signal-safe.
void cudptools_stop_unwatch(cudptools_stop *stop, int slot);

/// Installs SIGINT and SIGTERM handlers that record the signal and raise `stop` (NULL: raise nothing), and
/// unblocks both signals: a process a shell starts in the background inherits SIGINT ignored, so the
/// handler must be installed explicitly. `SA_RESTART` is set: no engine waits for EINTR, they all watch the
/// stop signal instead.
void cudptools_stop_on_signals(cudptools_stop *stop);

/// Takes the handlers away from `stop` (if it still has them; a stop made later keeps them), then waits until
/// no handler that may have read `stop` is still running, so that `stop` can be destroyed. Not
/// async-signal-safe.
void cudptools_stop_forget_signals(cudptools_stop *stop);

/// The signal number that asked the process to stop (SIGINT or SIGTERM), or 0.
int cudptools_stop_signal_number(void);

/// Where a test hook is called: in a SIGINT/SIGTERM handler that has read the stop signal it will raise; the
/// value is the signal number.
#define CUDPTOOLS_TEST_POINT_HANDLER 0
/// Where a test hook is called: in a raise that has claimed a watched socket, before it shuts it; the value is
/// the socket's descriptor.
#define CUDPTOOLS_TEST_POINT_CLAIMED 1

/// For tests only: calls `hook` (NULL: nothing) at each test point, from whatever thread or signal handler is
/// there, so that a test can hold one side of a race and check that the other waits. It must be
/// async-signal-safe.
void cudptools_stop_set_test_hook(void (*hook)(int point, int value));

#endif
