/* BIP 39 seed file and LND node key (see seed.h). */
#include "host/seed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mem.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Words of `in` joined by single spaces into out (*outlen bytes before the NUL, which
 * counts any NUL byte of the input); AL_E_TOO_LARGE if they do not fit. */
static al_err normalize(char out[AL_BIP39_MNEMONIC_BUFLEN], size_t *outlen, const char *in,
                        size_t len)
{
	size_t o = 0;
	bool word = false;

	for (size_t i = 0; i < len; i++) {
		if (is_blank(in[i])) {
			word = false;
			continue;
		}
		if (!word && o > 0) {
			if (o + 1 >= AL_BIP39_MNEMONIC_BUFLEN)
				return AL_E_TOO_LARGE;
			out[o++] = ' ';
		}
		word = true;
		if (o + 1 >= AL_BIP39_MNEMONIC_BUFLEN)
			return AL_E_TOO_LARGE;
		out[o++] = in[i];
	}
	out[o] = '\0';
	*outlen = o;
	return AL_OK;
}

/* The whole normalised text: a NUL byte from the file must fail here rather than end
 * the string early and hide what follows it. */
static al_err validate(const char *mnemonic, size_t len)
{
	uint8_t entropy[AL_BIP39_ENTROPY_MAX];
	size_t n;
	al_err e = al_bip39_to_entropy(entropy, sizeof(entropy), &n, mnemonic, len);

	al_memzero(entropy, sizeof(entropy));
	return e;
}

static al_err read_all(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return AL_E_HOST_IO;
		if (n == 0)
			return AL_OK;
		*len += (size_t)n;
		if (*len == cap)
			return AL_E_TOO_LARGE;
	}
}

al_err al_seed_parse(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *buf, size_t len)
{
	size_t n = 0;
	al_err e = len > AL_SEED_FILE_MAX ? AL_E_TOO_LARGE : normalize(out, &n, buf, len);

	if (e == AL_OK)
		e = validate(out, n);
	if (e != AL_OK)
		al_memzero(out, AL_BIP39_MNEMONIC_BUFLEN);
	return e;
}

al_err al_seed_read(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *path)
{
	char buf[AL_SEED_FILE_MAX + 1];
	size_t len = 0;
	al_err e;
	int fd, saved;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return AL_E_HOST_IO;
	e = read_all(fd, buf, sizeof(buf), &len);
	saved = errno;
	close(fd);
	errno = saved;
	if (e == AL_OK)
		e = al_seed_parse(out, buf, len);
	al_memzero(buf, sizeof(buf));
	if (e != AL_OK)
		al_memzero(out, AL_BIP39_MNEMONIC_BUFLEN);
	return e;
}

static al_err write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return AL_E_HOST_IO;
		p += n;
		len -= (size_t)n;
	}
	return AL_OK;
}

/* fsync the directory holding `path`, so that the new name survives a crash. */
static al_err sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : (size_t)(slash - path);
	int fd, r;

	if (n >= sizeof(dir))
		return AL_E_TOO_LARGE;
	if (slash == NULL)
		strcpy(dir, ".");
	else if (n == 0)
		strcpy(dir, "/");
	else {
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return AL_E_HOST_IO;
	r = fsync(fd);
	close(fd);
	return r == 0 ? AL_OK : AL_E_HOST_IO;
}

/* The words plus a newline into a new file at `tmp`, synced, then linked to `path`. */
static al_err write_new(const char *path, const char *tmp, const char *words)
{
	al_err e;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return AL_E_HOST_IO;
	e = write_all(fd, words, strlen(words));
	if (e == AL_OK)
		e = write_all(fd, "\n", 1);
	if (e == AL_OK && fsync(fd) != 0)
		e = AL_E_HOST_IO;
	saved = errno;
	close(fd);
	if (e == AL_OK && link(tmp, path) != 0) {
		e = AL_E_HOST_IO;
		saved = errno;
	}
	unlink(tmp);
	errno = saved;
	if (e == AL_OK)
		e = sync_dir(path);
	return e;
}

al_err al_seed_create(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *path, const al_rng *rng)
{
	uint8_t entropy[AL_BIP39_ENTROPY_MAX];
	char tmp[PATH_MAX];
	al_err e;
	int n;

	out[0] = '\0';
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return AL_E_TOO_LARGE;
	/* 256 bits of entropy: the 24-word sentence. */
	e = al_rng_fill(rng, entropy, sizeof(entropy));
	if (e == AL_OK)
		e = al_bip39_from_entropy(out, AL_BIP39_MNEMONIC_BUFLEN, entropy, sizeof(entropy));
	al_memzero(entropy, sizeof(entropy));
	if (e == AL_OK)
		e = write_new(path, tmp, out);
	if (e != AL_OK) {
		int saved = errno;

		al_memzero(out, AL_BIP39_MNEMONIC_BUFLEN);
		errno = saved;
	}
	return e;
}

al_err al_seed_load_or_create(char out[AL_BIP39_MNEMONIC_BUFLEN], bool *created, const char *path,
                              const al_rng *rng)
{
	al_err e;

	*created = false;
	e = al_seed_read(out, path);
	if (e != AL_E_HOST_IO || errno != ENOENT)
		return e;
	e = al_seed_create(out, path, rng);
	if (e == AL_E_HOST_IO && errno == EEXIST) /* another process won the race */
		return al_seed_read(out, path);
	*created = e == AL_OK;
	return e;
}

al_err al_seed_write(const char *path, const char *mnemonic)
{
	char words[AL_BIP39_MNEMONIC_BUFLEN], tmp[PATH_MAX];
	al_err e;
	int n;

	e = al_seed_parse(words, mnemonic, strlen(mnemonic));
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (e == AL_OK && (n < 0 || (size_t)n >= sizeof(tmp)))
		e = AL_E_TOO_LARGE;
	if (e == AL_OK)
		e = write_new(path, tmp, words);
	int saved = errno;
	al_memzero(words, sizeof(words));
	errno = saved;
	return e;
}
