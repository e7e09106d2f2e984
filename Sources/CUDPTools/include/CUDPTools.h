// C helpers for UDPTools' engines that Swift cannot write safely: the stop signal's descriptor and the
// async-signal-safe SIGINT/SIGTERM handlers that raise it.
#ifndef CUDPTOOLS_H
#define CUDPTOOLS_H

/// Makes the descriptor pair of a stop signal: on Linux one eventfd (both ends are the same descriptor),
/// elsewhere a pipe. Both ends are close-on-exec and non-blocking. Returns 0, or -1 with errno set.
int cudptools_stop_create(int *readEnd, int *writeEnd);

/// Makes the read end readable for good (writes to the eventfd or the pipe). Async-signal-safe; a full
/// pipe or a saturated eventfd is already readable, so its error is ignored.
void cudptools_stop_raise(int writeEnd);

/// Installs SIGINT and SIGTERM handlers that record the signal and raise the stop signal whose write end is
/// `writeEnd`, and unblocks both signals: a process a shell starts in the background inherits SIGINT
/// ignored, so the handler must be installed explicitly. `SA_RESTART` is set: nothing waits for EINTR,
/// every waiting engine polls the stop signal's descriptor instead, which the handler makes readable.
void cudptools_raise_on_stop_signals(int writeEnd);

/// The signal number that asked the process to stop (SIGINT or SIGTERM), or 0.
int cudptools_stop_signal_number(void);

#endif
