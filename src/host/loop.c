/* poll(2) event loop over a fixed slot table (see loop.h). */
#include "host/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct al_loop_slot {
	al_loop_fn *fn; /* NULL: the slot is free */
	void *arg;
	unsigned events;
	int fd;
};

struct al_loop {
	size_t cap;
	size_t high; /* slots at or above this index are all free */
	size_t used;
	size_t nfree;
	struct pollfd *pfd;
	struct al_loop_slot *slot;
	int *free; /* stack of free slot indices, lowest on top */
	uint64_t deadline;
	al_loop_timer_fn *timer_fn;
	void *timer_arg;
	bool stop;
	int stop_sig;
};

/* The self-pipe: a signal handler can reach only globals. */
static int sig_pipe[2] = {-1, -1};

uint64_t al_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t align_up(size_t n)
{
	return (n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

size_t al_loop_size(size_t slots)
{
	return align_up(sizeof(struct al_loop)) + align_up(slots * sizeof(struct pollfd)) +
	       align_up(slots * sizeof(struct al_loop_slot)) + align_up(slots * sizeof(int));
}

al_err al_loop_init(al_loop **out, void *mem, size_t len, size_t slots)
{
	uint8_t *p = mem;
	al_loop *l;

	*out = NULL;
	if (slots == 0 || slots > INT_MAX)
		return AL_E_ARG;
	if (len < al_loop_size(slots))
		return AL_E_BUFSIZE;
	memset(mem, 0, al_loop_size(slots));
	l = (al_loop *)p;
	p += align_up(sizeof(*l));
	l->pfd = (struct pollfd *)p;
	p += align_up(slots * sizeof(struct pollfd));
	l->slot = (struct al_loop_slot *)p;
	p += align_up(slots * sizeof(struct al_loop_slot));
	l->free = (int *)p;
	l->cap = slots;
	for (size_t i = 0; i < slots; i++) {
		l->pfd[i].fd = -1;
		l->free[i] = (int)(slots - 1 - i);
	}
	l->nfree = slots;
	l->deadline = AL_LOOP_NO_TIMER;
	*out = l;
	return AL_OK;
}

static short to_poll(unsigned events)
{
	return (short)(((events & AL_LOOP_READ) ? POLLIN : 0) |
	               ((events & AL_LOOP_WRITE) ? POLLOUT : 0));
}

static unsigned from_poll(short revents)
{
	unsigned e = 0;

	if (revents & POLLIN)
		e |= AL_LOOP_READ;
	if (revents & POLLOUT)
		e |= AL_LOOP_WRITE;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		e |= AL_LOOP_ERROR;
	return e;
}

al_err al_loop_add(al_loop *l, int *slot, int fd, unsigned events, al_loop_fn *fn, void *arg)
{
	int i;

	*slot = -1;
	if (fd < 0 || fn == NULL)
		return AL_E_ARG;
	if (l->nfree == 0)
		return AL_E_NOMEM;
	i = l->free[--l->nfree];
	l->slot[i] = (struct al_loop_slot){.fn = fn, .arg = arg, .events = events, .fd = fd};
	/* A slot waiting for nothing is left out of poll entirely (a negative fd), so
	 * that a hang-up it cannot act on yet does not wake the loop again and again. */
	l->pfd[i].fd = events != 0 ? fd : -1;
	l->pfd[i].events = to_poll(events);
	l->pfd[i].revents = 0; /* no stale event from a round in progress */
	if ((size_t)i >= l->high)
		l->high = (size_t)i + 1;
	l->used++;
	*slot = i;
	return AL_OK;
}

static bool slot_live(const al_loop *l, int slot)
{
	return slot >= 0 && (size_t)slot < l->cap && l->slot[slot].fn != NULL;
}

void al_loop_set_events(al_loop *l, int slot, unsigned events)
{
	if (!slot_live(l, slot))
		return;
	l->slot[slot].events = events;
	l->pfd[slot].fd = events != 0 ? l->slot[slot].fd : -1;
	l->pfd[slot].events = to_poll(events);
	if (events == 0)
		l->pfd[slot].revents = 0;
}

unsigned al_loop_events(const al_loop *l, int slot)
{
	return slot_live(l, slot) ? l->slot[slot].events : 0;
}

void al_loop_remove(al_loop *l, int slot)
{
	if (!slot_live(l, slot))
		return;
	l->pfd[slot] = (struct pollfd){.fd = -1};
	l->slot[slot] = (struct al_loop_slot){0};
	l->used--;
	/* Keep the free stack's lowest index on top so the polled prefix stays short. */
	if (l->nfree > 0 && slot > l->free[l->nfree - 1]) {
		size_t j = l->nfree;

		while (j > 0 && l->free[j - 1] < slot) {
			l->free[j] = l->free[j - 1];
			j--;
		}
		l->free[j] = slot;
	} else {
		l->free[l->nfree] = slot;
	}
	l->nfree++;
	while (l->high > 0 && l->slot[l->high - 1].fn == NULL)
		l->high--;
}

size_t al_loop_count(const al_loop *l)
{
	return l->used;
}

void al_loop_set_timer(al_loop *l, uint64_t deadline_ms, al_loop_timer_fn *fn, void *arg)
{
	l->deadline = fn != NULL ? deadline_ms : AL_LOOP_NO_TIMER;
	l->timer_fn = fn;
	l->timer_arg = arg;
}

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t n = write(sig_pipe[1], &b, 1);

	(void)n; /* a full pipe already holds a wake-up */
	errno = saved;
}

static void sig_readable(al_loop *l, void *arg, int slot, unsigned events)
{
	unsigned char b[16];
	ssize_t n;

	while ((n = read(sig_pipe[0], b, sizeof(b))) > 0) {
		if (l->stop_sig == 0)
			l->stop_sig = b[0];
	}
	l->stop = true;
}

static bool set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

al_err al_loop_stop_on_signals(al_loop *l, const int *sigs, size_t n)
{
	struct sigaction sa;
	int slot;

	if (sig_pipe[0] >= 0)
		return AL_E_ARG;
	if (pipe(sig_pipe) != 0)
		return AL_E_ARG;
	if (!set_flags(sig_pipe[0]) || !set_flags(sig_pipe[1]))
		return AL_E_ARG;
	AL_TRY(al_loop_add(l, &slot, sig_pipe[0], AL_LOOP_READ, sig_readable, NULL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return AL_E_ARG;
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < n; i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return AL_E_ARG;
	}
	return AL_OK;
}

int al_loop_stop_signal(const al_loop *l)
{
	return l->stop_sig;
}

static int wait_ms(const al_loop *l, int max_wait_ms)
{
	uint64_t now, left;

	if (l->deadline == AL_LOOP_NO_TIMER)
		return max_wait_ms;
	now = al_loop_now_ms();
	left = l->deadline > now ? l->deadline - now : 0;
	if (left > INT_MAX)
		left = INT_MAX;
	if (max_wait_ms >= 0 && (uint64_t)max_wait_ms < left)
		return max_wait_ms;
	return (int)left;
}

static void fire_timer(al_loop *l)
{
	al_loop_timer_fn *fn = l->timer_fn;
	uint64_t now;

	if (l->deadline == AL_LOOP_NO_TIMER)
		return;
	now = al_loop_now_ms();
	if (now < l->deadline)
		return;
	l->deadline = AL_LOOP_NO_TIMER;
	l->timer_fn = NULL;
	fn(l, l->timer_arg, now);
}

al_err al_loop_run_once(al_loop *l, int max_wait_ms)
{
	int n = poll(l->pfd, (nfds_t)l->high, wait_ms(l, max_wait_ms));

	if (n < 0)
		return errno == EINTR ? AL_OK : AL_E_ARG;
	/* `high` may change while dispatching; slots past the polled prefix have no
	 * revents, and a slot removed or re-added during the round had them cleared. */
	for (size_t i = 0; n > 0 && i < l->high; i++) {
		short re = l->pfd[i].revents;

		if (re == 0)
			continue;
		n--;
		l->pfd[i].revents = 0;
		l->slot[i].fn(l, l->slot[i].arg, (int)i, from_poll(re));
	}
	fire_timer(l);
	return AL_OK;
}

al_err al_loop_run(al_loop *l)
{
	while (!l->stop)
		AL_TRY(al_loop_run_once(l, -1));
	return AL_OK;
}

void al_loop_stop(al_loop *l)
{
	l->stop = true;
}

bool al_loop_stopped(const al_loop *l)
{
	return l->stop;
}

al_err al_loop_raise_nofile(uint64_t *limit)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return AL_E_ARG;
	if (r.rlim_cur != r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) != 0)
			return AL_E_ARG;
	}
	if (limit != NULL)
		*limit = r.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)r.rlim_cur;
	return AL_OK;
}

al_err al_unix_addr(struct sockaddr_un *un, int *dirfd, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t n;
	int w;

	*dirfd = -1;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (strlen(path) < sizeof(un->sun_path)) {
		memcpy(un->sun_path, path, strlen(path));
		return AL_OK;
	}
	n = slash == NULL ? 0 : (size_t)(slash - path);
	if (slash == NULL || n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return AL_E_HOST_IO;
	}
	memcpy(dir, path, n);
	dir[n == 0 ? 1 : n] = '\0';
	if (n == 0)
		dir[0] = '/';
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return AL_E_HOST_IO;
	w = snprintf(un->sun_path, sizeof(un->sun_path), "/proc/self/fd/%d/%s", *dirfd, slash + 1);
	if (w < 0 || (size_t)w >= sizeof(un->sun_path)) {
		close(*dirfd);
		*dirfd = -1;
		errno = ENAMETOOLONG;
		return AL_E_HOST_IO;
	}
	return AL_OK;
}
