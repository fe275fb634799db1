/* The host's event loop: one thread, poll(2), a fixed table of watched descriptors,
 * one timer on the monotonic clock, and signals turned into a clean stop.
 *
 * Memory is the caller's: al_loop_size(slots) bytes handed to al_loop_init, and the
 * table never grows. Each watched descriptor gets a slot (a small integer handle)
 * that stays valid until it is removed; slots are reused. Callbacks may add and
 * remove slots (their own included) while the loop dispatches: a slot removed or
 * reused during a round gets no stale events from that round.
 *
 * Signals: al_loop_stop_on_signals installs handlers that write to a self-pipe the
 * loop watches, so a SIGTERM stops al_loop_run between callbacks, never inside one. */
#ifndef ALIGHT_HOST_LOOP_H
#define ALIGHT_HOST_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Event bits, for interest and for what happened. */
#define AL_LOOP_READ  0x1u
#define AL_LOOP_WRITE 0x2u
/* Reported only: error, hang-up or an invalid descriptor (POLLERR, POLLHUP, POLLNVAL). */
#define AL_LOOP_ERROR 0x4u

/* No timer armed. */
#define AL_LOOP_NO_TIMER UINT64_MAX

typedef struct al_loop al_loop;

/* Called with the slot's argument, its slot and the AL_LOOP_* bits that happened. */
typedef void al_loop_fn(al_loop *l, void *arg, int slot, unsigned events);
/* Called once when the armed deadline has passed, with the current time. */
typedef void al_loop_timer_fn(al_loop *l, void *arg, uint64_t now_ms);

/* Milliseconds on CLOCK_MONOTONIC (never jumps with the wall clock). */
uint64_t al_loop_now_ms(void);

/* Bytes al_loop_init needs for `slots` descriptors. */
size_t al_loop_size(size_t slots);
/* Build a loop in `mem` (len >= al_loop_size(slots), pointer-aligned); AL_E_BUFSIZE
 * if too small, AL_E_ARG for no slots or more than INT_MAX. */
AL_WARN_UNUSED al_err al_loop_init(al_loop **out, void *mem, size_t len, size_t slots);

/* Watch `fd` for `events`; *slot receives its handle. AL_E_NOMEM when the table is
 * full (the caller decides: an inbound socket is then simply closed). */
AL_WARN_UNUSED al_err al_loop_add(al_loop *l, int *slot, int fd, unsigned events, al_loop_fn *fn,
                                  void *arg);
/* Change what a slot waits for. 0: nothing at all, not even a hang-up (the
 * descriptor is left out of poll until events are asked for again). */
void al_loop_set_events(al_loop *l, int slot, unsigned events);
unsigned al_loop_events(const al_loop *l, int slot);
/* Stop watching; the descriptor is not closed (it is the caller's). */
void al_loop_remove(al_loop *l, int slot);
/* Slots in use. */
size_t al_loop_count(const al_loop *l);

/* Arm the single timer for an absolute al_loop_now_ms() deadline, replacing any
 * earlier one; AL_LOOP_NO_TIMER disarms it. The callback runs once per arming. */
void al_loop_set_timer(al_loop *l, uint64_t deadline_ms, al_loop_timer_fn *fn, void *arg);

/* Make the listed signals stop the loop (self-pipe, SA_RESTART). Also ignores
 * SIGPIPE: a peer that hangs up must never kill the process. AL_E_NOMEM if the
 * table is full, AL_E_ARG if a handler cannot be installed. Once per process. */
AL_WARN_UNUSED al_err al_loop_stop_on_signals(al_loop *l, const int *sigs, size_t n);
/* The signal that stopped the loop, 0 if none. */
int al_loop_stop_signal(const al_loop *l);

/* Dispatch events until al_loop_stop or a stop signal. AL_OK then; AL_E_ARG if poll
 * itself fails for a reason other than EINTR. */
AL_WARN_UNUSED al_err al_loop_run(al_loop *l);
/* One poll round waiting at most `max_wait_ms` (-1: until an event or the timer). */
AL_WARN_UNUSED al_err al_loop_run_once(al_loop *l, int max_wait_ms);
void al_loop_stop(al_loop *l);
bool al_loop_stopped(const al_loop *l);

struct sockaddr_un;
/* Fill a Unix socket address for `path`. sun_path holds only 108 bytes; a longer path
 * is reached through a descriptor of its directory ("/proc/self/fd/N/name", Linux),
 * returned in *dirfd for the caller to close after bind or connect (-1 if none was
 * needed). AL_E_HOST_IO with errno set (ENAMETOOLONG, or the open's) on failure. */
AL_WARN_UNUSED al_err al_unix_addr(struct sockaddr_un *un, int *dirfd, const char *path);

/* Raise the RLIMIT_NOFILE soft limit to the hard limit; *limit (may be NULL) gets the
 * resulting soft limit. AL_E_ARG if getrlimit/setrlimit fail. */
AL_WARN_UNUSED al_err al_loop_raise_nofile(uint64_t *limit);

#endif
