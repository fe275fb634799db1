/* The enclave's side of the C library: the functions that would reach the operating
 * system, defined inside the image so that it imports none of them.
 *
 * OpenSSL, jansson, libsecp256k1 and protobuf-c are linked in statically, whole
 * objects at a time, and those objects name files, sockets, stdio, dynamic loading,
 * environment variables, signals and shared memory even where the enclave never goes
 * (a file BIO, the console UI, engine loading, the /dev/urandom fallback). An SGX
 * trusted runtime has none of them either (Intel's tlibc does not define fopen; SGX
 * SSL compiles those paths out). Here every such name binds, at link time, to a
 * definition in this file that fails the way the C library reports an unavailable
 * service (ENOSYS, NULL, EOF), so:
 *   - the image's dynamic symbol table has no import through which it could reach
 *     the host's OS; the enclave_symbols test (scripts/check-enclave-symbols against
 *     scripts/enclave-allowlist) proves it on every build;
 *   - time, entropy and the environment are what the ocalls give: time() and the
 *     clocks return the time the enclave took from the time ocall at the start of the
 *     current ecall, getentropy is the random ocall, getenv finds nothing (the host's
 *     environment must not steer OpenSSL inside the enclave).
 * Allocation is routed separately (rt.h). */
#define _GNU_SOURCE 1 /* the prototypes of secure_getenv, getentropy and dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <ucontext.h>
#include <unistd.h>

#include "enclave/enclave_int.h"
#include "enclave/rt.h"

#define NOSYS(ret)                                                                                 \
	do {                                                                                       \
		errno = ENOSYS;                                                                    \
		return ret;                                                                        \
	} while (0)

/* --- stdio: no streams exist in the enclave --------------------------------------- */

/* libsecp256k1.a and libjansson.a are not position-independent: they reach the stdio
 * stream variables PC-relative, which only a definition inside the image satisfies. */
FILE *stdin, *stdout, *stderr;

FILE *fopen(const char *path, const char *mode)
{
	NOSYS(NULL);
}
FILE *fopen64(const char *path, const char *mode)
{
	NOSYS(NULL);
}
int fclose(FILE *f)
{
	NOSYS(EOF);
}
size_t fread(void *p, size_t size, size_t n, FILE *f)
{
	NOSYS(0);
}
size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	NOSYS(0);
}
int fflush(FILE *f)
{
	NOSYS(EOF);
}
int fseek(FILE *f, long off, int whence)
{
	NOSYS(-1);
}
long ftell(FILE *f)
{
	NOSYS(-1);
}
int feof(FILE *f)
{
	return 1;
}
int ferror(FILE *f)
{
	return 1;
}
int fileno(FILE *f)
{
	NOSYS(-1);
}
int fgetc(FILE *f)
{
	NOSYS(EOF);
}
char *fgets(char *s, int n, FILE *f)
{
	NOSYS(NULL);
}
int fputc(int c, FILE *f)
{
	NOSYS(EOF);
}
int fputs(const char *s, FILE *f)
{
	NOSYS(EOF);
}
void perror(const char *s)
{
}
/* The fortified printf family the Debian-built libraries call. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	NOSYS(-1);
}
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	NOSYS(-1);
}

/* --- files, directories, terminals ---------------------------------------------------- */

int open(const char *path, int flags, ...)
{
	NOSYS(-1);
}
ssize_t read(int fd, void *buf, size_t n)
{
	NOSYS(-1);
}
ssize_t write(int fd, const void *buf, size_t n)
{
	NOSYS(-1);
}
int close(int fd)
{
	NOSYS(-1);
}
int fcntl(int fd, int cmd, ...)
{
	NOSYS(-1);
}
int ioctl(int fd, unsigned long req, ...)
{
	NOSYS(-1);
}
int stat(const char *restrict path, struct stat *restrict st)
{
	NOSYS(-1);
}
int fstat(int fd, struct stat *st)
{
	NOSYS(-1);
}
DIR *opendir(const char *path)
{
	NOSYS(NULL);
}
struct dirent *readdir(DIR *d)
{
	NOSYS(NULL);
}
int closedir(DIR *d)
{
	NOSYS(-1);
}
int tcgetattr(int fd, struct termios *t)
{
	NOSYS(-1);
}
int tcsetattr(int fd, int act, const struct termios *t)
{
	NOSYS(-1);
}

/* --- sockets and names ------------------------------------------------------------------ */

int socket(int domain, int type, int proto)
{
	NOSYS(-1);
}
int accept(int fd, struct sockaddr *restrict a, socklen_t *restrict l)
{
	NOSYS(-1);
}
int bind(int fd, const struct sockaddr *a, socklen_t l)
{
	NOSYS(-1);
}
int connect(int fd, const struct sockaddr *a, socklen_t l)
{
	NOSYS(-1);
}
int listen(int fd, int backlog)
{
	NOSYS(-1);
}
int shutdown(int fd, int how)
{
	NOSYS(-1);
}
ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	NOSYS(-1);
}
ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	NOSYS(-1);
}
int setsockopt(int fd, int level, int name, const void *v, socklen_t l)
{
	NOSYS(-1);
}
int getsockopt(int fd, int level, int name, void *restrict v, socklen_t *restrict l)
{
	NOSYS(-1);
}
/* libssl's kernel-TLS SSL_sendfile (the enclave's TLS runs over memory BIOs). */
ssize_t sendfile(int out, int in, off_t *off, size_t n);
ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	NOSYS(-1);
}
int getsockname(int fd, struct sockaddr *restrict a, socklen_t *restrict l)
{
	NOSYS(-1);
}
int select(int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
           struct timeval *restrict t)
{
	NOSYS(-1);
}
int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
	*res = NULL;
	return EAI_SYSTEM;
}
void freeaddrinfo(struct addrinfo *res)
{
}
const char *gai_strerror(int e)
{
	return "name resolution is not available in the enclave";
}
int getnameinfo(const struct sockaddr *restrict a, socklen_t l, char *restrict host, socklen_t hl,
                char *restrict serv, socklen_t sl, int flags)
{
	return EAI_SYSTEM;
}
struct hostent *gethostbyname(const char *name)
{
	return NULL;
}

/* --- processes, signals, memory mappings, shared memory, loading -------------------- */

pid_t getpid(void)
{
	return 1; /* one enclave, never forked */
}
int uname(struct utsname *u)
{
	NOSYS(-1);
}
long sysconf(int name)
{
	NOSYS(-1);
}
int sched_yield(void)
{
	return 0;
}
unsigned int sleep(unsigned int s)
{
	return 0;
}
int usleep(useconds_t us)
{
	return 0;
}
int sigaction(int sig, const struct sigaction *restrict a, struct sigaction *restrict old)
{
	NOSYS(-1);
}
sighandler_t signal(int sig, sighandler_t h)
{
	errno = ENOSYS;
	return SIG_ERR;
}
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	NOSYS(MAP_FAILED);
}
int munmap(void *addr, size_t len)
{
	NOSYS(-1);
}
int mprotect(void *addr, size_t len, int prot)
{
	NOSYS(-1);
}
int madvise(void *addr, size_t len, int advice)
{
	NOSYS(-1);
}
int mlock(const void *addr, size_t len)
{
	NOSYS(-1);
}
int shmget(key_t key, size_t size, int flags)
{
	NOSYS(-1);
}
void *shmat(int id, const void *addr, int flags)
{
	NOSYS((void *)-1);
}
int shmdt(const void *addr)
{
	NOSYS(-1);
}
void *dlopen(const char *path, int flags)
{
	return NULL;
}
void *dlsym(void *restrict h, const char *restrict name)
{
	return NULL;
}
int dlclose(void *h)
{
	return -1;
}
char *dlerror(void)
{
	return "dynamic loading is not available in the enclave";
}
int dladdr(const void *addr, Dl_info *info)
{
	return 0;
}
/* OpenSSL's ASYNC jobs need user contexts: not available, so jobs never start. */
int getcontext(ucontext_t *uc)
{
	NOSYS(-1);
}
int setcontext(const ucontext_t *uc)
{
	NOSYS(-1);
}
void makecontext(ucontext_t *uc, void (*fn)(void), int argc, ...)
{
}
long syscall(long nr, ...)
{
	NOSYS(-1);
}

/* --- environment, time, entropy: what the ocalls give ------------------------------------ */

char *getenv(const char *name)
{
	return NULL;
}
char *secure_getenv(const char *name)
{
	return NULL;
}
time_t time(time_t *t)
{
	time_t now = (time_t)al_enc.wall_s;
	if (t)
		*t = now;
	return now;
}
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	tv->tv_sec = (time_t)al_enc.wall_s;
	tv->tv_usec = 0;
	return 0;
}
int clock_gettime(clockid_t clk, struct timespec *ts)
{
	uint64_t ms = clk == CLOCK_REALTIME ? al_enc.wall_s * 1000 : al_enc.now_ms;
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
	return 0;
}
int getentropy(void *buf, size_t len)
{
	if (len > 256 || al_rng_fill(&al_enc.rng, buf, len) != AL_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* --- allocation-returning string functions and sorting ------------------------------------ */

/* strdup would allocate from the host's heap inside libc. */
char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		unsigned char t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
	}
}

/* glibc's qsort may take a scratch buffer from the host's malloc: heapsort in place
 * instead (OpenSSL sorts its stacks and DER SET OF elements with it). */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;
	if (n < 2 || size == 0)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
