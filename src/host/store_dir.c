/* Directory backend.
 *
 * Layout of the store directory:
 *   objects/<64 hex>  one object: "ALO1" || version (8, big-endian) || sealed record
 *   global            "ALG1" || global version (8, big-endian); absent means 0
 *   journal           the batch being applied (see below)
 *   lock              held with a POSIX write lock while the store is open
 *   *.tmp             a file being written; never read
 *
 * Every file is replaced atomically: written as <name>.tmp, fsync'ed, renamed over
 * <name>; the directory is fsync'ed before anything depends on the rename.
 *
 * Crash semantics of a batch (write-ahead journal, redo only):
 *   1. check every expectation against the files (nothing written yet);
 *   2. write the whole batch, with the resulting versions and the new global
 *      version, to journal.tmp, fsync it, rename it to journal, fsync the directory.
 *      This rename is the commit point;
 *   3. apply: replace or unlink each object file, fsync objects/, replace global,
 *      fsync the directory;
 *   4. unlink journal, fsync the directory; only then is the batch acknowledged.
 * A crash before the rename in step 2 leaves the old state plus *.tmp debris, which
 * opening removes: the batch did not happen. A crash after it leaves a journal, which
 * opening applies again (step 3 is idempotent: it writes final contents) before
 * serving anything: the batch happened, completely. Readers never see a half-applied
 * batch because a store with a journal is not served until the journal is applied. */
#include "host/store_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "util/cursor.h"
#include "util/hex.h"

#define OBJ_MAGIC     "ALO1"
#define GLOBAL_MAGIC  "ALG1"
#define JOURNAL_MAGIC "ALJ1"
#define HDR_LEN       12 /* magic || version */
#define HEX_LEN       (2 * AL_KV_NAME_LEN)
#define JOURNAL_FIXED (4 + 8 + 4 + 32)
#define JOURNAL_ITEM  (1 + AL_KV_NAME_LEN + 8 + 4)

struct al_store_dir {
	int root;
	int objs;
	int lock;
};

static al_err errno_err(void)
{
	return errno == ENOENT ? AL_E_STORE_NOT_FOUND : AL_E_STORE_BACKEND;
}

static al_err write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t got = write(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return AL_E_STORE_BACKEND;
		p += got;
		n -= (size_t)got;
	}
	return AL_OK;
}

/* Read up to n bytes; *got < n only at end of file. */
static al_err read_all(int fd, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, p + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return AL_E_STORE_BACKEND;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return AL_OK;
}

static al_err sync_fd(int fd)
{
	return fsync(fd) == 0 ? AL_OK : AL_E_STORE_BACKEND;
}

/* Atomically replace dir/name with hdr || body (the caller fsyncs dir). */
static al_err replace_file(int dir, const char *name, const uint8_t *hdr, size_t hdrlen,
                           const uint8_t *body, size_t bodylen)
{
	char tmp[HEX_LEN + 8];
	al_err err;
	int fd;

	if (strlen(name) + 5 > sizeof(tmp))
		return AL_E_ARG;
	strcpy(tmp, name);
	strcat(tmp, ".tmp");
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return AL_E_STORE_BACKEND;
	err = write_all(fd, hdr, hdrlen);
	if (err == AL_OK)
		err = write_all(fd, body, bodylen);
	if (err == AL_OK)
		err = sync_fd(fd);
	if (close(fd) != 0 && err == AL_OK)
		err = AL_E_STORE_BACKEND;
	if (err == AL_OK && renameat(dir, tmp, dir, name) != 0)
		err = AL_E_STORE_BACKEND;
	if (err != AL_OK)
		unlinkat(dir, tmp, 0);
	return err;
}

static void hex_name(char out[HEX_LEN + 1], const uint8_t name[AL_KV_NAME_LEN])
{
	/* Cannot fail: the buffer has room for the hex and the NUL. */
	if (al_hex_encode(out, HEX_LEN + 1, name, AL_KV_NAME_LEN) != AL_OK)
		out[0] = 0;
}

/* Open a file with a magic || version header; the fd is left after the header. */
static al_err open_versioned(int dir, const char *file, const char *magic, int *fd_out,
                             int64_t *version, size_t *bodylen)
{
	uint8_t hdr[HDR_LEN];
	struct stat st;
	size_t got;
	al_err err;
	int fd = openat(dir, file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno_err();
	err = fstat(fd, &st) == 0 ? read_all(fd, hdr, HDR_LEN, &got) : AL_E_STORE_BACKEND;
	if (err == AL_OK && got < HDR_LEN)
		err = AL_E_STORE_TRUNCATED;
	if (err == AL_OK && memcmp(hdr, magic, 4) != 0)
		err = AL_E_STORE_FORMAT;
	if (err != AL_OK) {
		close(fd);
		return err;
	}
	*version = (int64_t)al_read_be64(hdr + 4);
	*bodylen = (size_t)st.st_size - HDR_LEN;
	*fd_out = fd;
	return AL_OK;
}

static al_err object_version(al_store_dir *d, const uint8_t *name, int64_t *version)
{
	char hex[HEX_LEN + 1];
	size_t bodylen;
	int fd;

	hex_name(hex, name);
	AL_TRY(open_versioned(d->objs, hex, OBJ_MAGIC, &fd, version, &bodylen));
	close(fd);
	return AL_OK;
}

static al_err dir_global_version(void *ctx, int64_t *out)
{
	al_store_dir *d = ctx;
	size_t bodylen;
	al_err err;
	int fd;

	err = open_versioned(d->root, "global", GLOBAL_MAGIC, &fd, out, &bodylen);
	if (err == AL_E_STORE_NOT_FOUND) {
		*out = 0;
		return AL_OK;
	}
	if (err == AL_OK)
		close(fd);
	return err;
}

static al_err dir_get(void *ctx, const uint8_t name[AL_KV_NAME_LEN], uint8_t *buf, size_t cap,
                      size_t *len, int64_t *version)
{
	al_store_dir *d = ctx;
	char hex[HEX_LEN + 1];
	size_t bodylen, got;
	al_err err;
	int fd;

	hex_name(hex, name);
	AL_TRY(open_versioned(d->objs, hex, OBJ_MAGIC, &fd, version, &bodylen));
	*len = bodylen;
	if (bodylen > cap)
		err = AL_E_BUFSIZE;
	else
		err = read_all(fd, buf, bodylen, &got);
	if (err == AL_OK && got != bodylen)
		err = AL_E_STORE_BACKEND;
	close(fd);
	return err;
}

/* VSS expectations for one item against the object's current version (0: absent). */
static al_err check_item(al_store_dir *d, const al_kv_bitem *it, int64_t *next)
{
	int64_t cur = 0;
	al_err err = object_version(d, it->name, &cur);

	if (err == AL_E_STORE_NOT_FOUND)
		cur = 0;
	else if (err != AL_OK)
		return err;
	if (!it->value && cur == 0)
		return AL_E_STORE_VERSION;
	if (it->version != AL_KV_ANY && it->version != cur)
		return AL_E_STORE_VERSION;
	*next = it->version == AL_KV_ANY ? 1 : cur + 1;
	return AL_OK;
}

/* Journal: magic || new global || count || items || SHA-256 of all before it.
 * Item: op (1 put, 0 delete) || name || new version || len || value. */
static al_err build_journal(al_store_dir *d, const al_kv_bitem *items, size_t n, int64_t gnext,
                            uint8_t **out, size_t *outlen)
{
	size_t i, len = JOURNAL_FIXED;
	int64_t next;
	uint8_t *buf;
	al_wb w;

	for (i = 0; i < n; i++)
		len += JOURNAL_ITEM + (items[i].value ? items[i].len : 0);
	buf = malloc(len);
	if (!buf)
		return AL_E_NOMEM;
	al_wb_init(&w, buf, len);
	al_wb_bytes(&w, JOURNAL_MAGIC, 4);
	al_wb_be64(&w, (uint64_t)gnext);
	al_wb_be32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		al_err err = check_item(d, &items[i], &next);
		if (err != AL_OK) {
			free(buf);
			return err;
		}
		al_wb_u8(&w, items[i].value ? 1 : 0);
		al_wb_bytes(&w, items[i].name, AL_KV_NAME_LEN);
		al_wb_be64(&w, (uint64_t)next);
		al_wb_be32(&w, items[i].value ? (uint32_t)items[i].len : 0);
		if (items[i].value)
			al_wb_bytes(&w, items[i].value, items[i].len);
	}
	al_sha256(buf + w.len, buf, w.len);
	*out = buf;
	*outlen = len;
	return AL_OK;
}

static al_err apply_item(al_store_dir *d, al_cur *c)
{
	uint8_t op = al_cur_u8(c), hdr[HDR_LEN];
	const uint8_t *name = al_cur_ptr(c, AL_KV_NAME_LEN);
	uint64_t version = al_cur_be64(c);
	uint32_t len = al_cur_be32(c);
	const uint8_t *value = al_cur_ptr(c, len);
	char hex[HEX_LEN + 1];

	if (!al_cur_ok(c) || op > 1)
		return AL_E_STORE_BACKEND;
	hex_name(hex, name);
	if (op == 0) {
		if (unlinkat(d->objs, hex, 0) != 0 && errno != ENOENT)
			return AL_E_STORE_BACKEND;
		return AL_OK;
	}
	memcpy(hdr, OBJ_MAGIC, 4);
	al_write_be64(hdr + 4, version);
	return replace_file(d->objs, hex, hdr, HDR_LEN, value, len);
}

/* Step 3: apply a committed journal (again, after a crash). */
static al_err apply_journal(al_store_dir *d, const uint8_t *buf, size_t len)
{
	uint8_t sum[32], hdr[HDR_LEN];
	uint32_t i, n;
	al_cur c;

	if (len < JOURNAL_FIXED)
		return AL_E_STORE_BACKEND;
	al_sha256(sum, buf, len - 32);
	if (memcmp(sum, buf + len - 32, 32) != 0 || memcmp(buf, JOURNAL_MAGIC, 4) != 0)
		return AL_E_STORE_BACKEND;
	al_cur_init(&c, buf + 4, len - 4 - 32);
	memcpy(hdr, GLOBAL_MAGIC, 4);
	al_write_be64(hdr + 4, al_cur_be64(&c));
	n = al_cur_be32(&c);
	for (i = 0; i < n; i++)
		AL_TRY(apply_item(d, &c));
	if (al_cur_done(&c) != AL_OK)
		return AL_E_STORE_BACKEND;
	AL_TRY(sync_fd(d->objs));
	AL_TRY(replace_file(d->root, "global", hdr, HDR_LEN, NULL, 0));
	return sync_fd(d->root);
}

/* Step 4. */
static al_err retire_journal(al_store_dir *d)
{
	if (unlinkat(d->root, "journal", 0) != 0 && errno != ENOENT)
		return AL_E_STORE_BACKEND;
	return sync_fd(d->root);
}

static al_err dir_put_batch(void *ctx, const al_kv_bitem *items, size_t n, int64_t global_version)
{
	al_store_dir *d = ctx;
	uint8_t *journal = NULL;
	size_t len = 0;
	int64_t g;
	al_err err;

	if (!items || n == 0 || n > UINT32_MAX || global_version < 0 || global_version == INT64_MAX)
		return AL_E_ARG;
	AL_TRY(dir_global_version(d, &g));
	if (g != global_version)
		return AL_E_STORE_VERSION;
	AL_TRY(build_journal(d, items, n, global_version + 1, &journal, &len));
	err = replace_file(d->root, "journal", journal, len, NULL, 0);
	if (err == AL_OK)
		err = sync_fd(d->root); /* committed */
	if (err == AL_OK)
		err = apply_journal(d, journal, len);
	if (err == AL_OK)
		err = retire_journal(d);
	free(journal);
	return err;
}

static al_err dir_del(void *ctx, const uint8_t name[AL_KV_NAME_LEN], int64_t version)
{
	al_store_dir *d = ctx;
	char hex[HEX_LEN + 1];
	int64_t cur;
	al_err err = object_version(d, name, &cur);

	if (err == AL_E_STORE_NOT_FOUND)
		return AL_OK;
	if (err != AL_OK)
		return err;
	if (version != AL_KV_ANY && version != cur)
		return AL_E_STORE_VERSION;
	hex_name(hex, name);
	if (unlinkat(d->objs, hex, 0) != 0 && errno != ENOENT)
		return AL_E_STORE_BACKEND;
	return sync_fd(d->objs);
}

/* One directory entry: an object if its name is exactly 64 hex digits. */
static al_err list_entry(al_store_dir *d, const char *file, const uint8_t *prefix, size_t prefixlen,
                         al_kv_list_fn fn, void *arg)
{
	uint8_t name[AL_KV_NAME_LEN];
	int64_t version;
	al_err err;

	if (strlen(file) != HEX_LEN || al_hex_decode_exact(name, sizeof(name), file) != AL_OK)
		return AL_OK;
	if (memcmp(name, prefix, prefixlen) != 0)
		return AL_OK;
	err = object_version(d, name, &version);
	if (err != AL_OK)
		return err;
	return fn(arg, name, version);
}

static al_err dir_list(void *ctx, const uint8_t *prefix, size_t prefixlen, al_kv_list_fn fn,
                       void *arg, int64_t *global_version)
{
	al_store_dir *d = ctx;
	struct dirent *e;
	al_err err;
	DIR *dir;
	int fd;

	if ((!prefix && prefixlen) || prefixlen > AL_KV_NAME_LEN || !fn)
		return AL_E_ARG;
	AL_TRY(dir_global_version(d, global_version));
	fd = openat(d->objs, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return AL_E_STORE_BACKEND;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return AL_E_STORE_BACKEND;
	}
	err = AL_OK;
	errno = 0;
	while (err == AL_OK && (e = readdir(dir)) != NULL)
		err = list_entry(d, e->d_name, prefix, prefixlen, fn, arg);
	if (err == AL_OK && errno != 0)
		err = AL_E_STORE_BACKEND;
	closedir(dir);
	return err;
}

const al_kv_backend al_store_dir_backend = {
    .get = dir_get,
    .put_batch = dir_put_batch,
    .del = dir_del,
    .list = dir_list,
    .global_version = dir_global_version,
};

/* ---- opening and recovery ---- */

static al_err take_lock(al_store_dir *d)
{
	struct flock fl;

	d->lock = openat(d->root, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock < 0)
		return AL_E_STORE_BACKEND;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(d->lock, F_SETLK, &fl) == 0 ? AL_OK : AL_E_STORE_BACKEND;
}

/* Remove *.tmp files: writes that never reached their rename. */
static al_err remove_debris(int dirfd)
{
	struct dirent *e;
	DIR *dir;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return AL_E_STORE_BACKEND;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return AL_E_STORE_BACKEND;
	}
	while ((e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0)
			unlinkat(dirfd, e->d_name, 0);
	}
	closedir(dir);
	return AL_OK;
}

/* Finish a batch committed before a crash. */
static al_err recover(al_store_dir *d)
{
	uint8_t *buf;
	struct stat st;
	size_t got;
	al_err err;
	int fd = openat(d->root, "journal", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? AL_OK : AL_E_STORE_BACKEND;
	if (fstat(fd, &st) != 0 || st.st_size < JOURNAL_FIXED || !(buf = malloc(st.st_size))) {
		close(fd);
		return AL_E_STORE_BACKEND;
	}
	err = read_all(fd, buf, (size_t)st.st_size, &got);
	close(fd);
	if (err == AL_OK && got != (size_t)st.st_size)
		err = AL_E_STORE_BACKEND;
	if (err == AL_OK)
		err = apply_journal(d, buf, got);
	if (err == AL_OK)
		err = retire_journal(d);
	free(buf);
	return err;
}

static al_err open_dirs(al_store_dir *d, const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return AL_E_STORE_BACKEND;
	d->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->root < 0)
		return AL_E_STORE_BACKEND;
	if (mkdirat(d->root, "objects", 0700) != 0 && errno != EEXIST)
		return AL_E_STORE_BACKEND;
	d->objs = openat(d->root, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return d->objs < 0 ? AL_E_STORE_BACKEND : AL_OK;
}

al_err al_store_dir_open(al_store_dir **out, const char *path)
{
	al_store_dir *d;
	al_err err;

	if (!out || !path)
		return AL_E_ARG;
	*out = NULL;
	d = malloc(sizeof(*d));
	if (!d)
		return AL_E_NOMEM;
	d->root = d->objs = d->lock = -1;
	err = open_dirs(d, path);
	if (err == AL_OK)
		err = take_lock(d);
	if (err == AL_OK)
		err = recover(d);
	if (err == AL_OK)
		err = remove_debris(d->root);
	if (err == AL_OK)
		err = remove_debris(d->objs);
	if (err == AL_OK)
		err = sync_fd(d->objs);
	if (err != AL_OK) {
		al_store_dir_close(d);
		return err;
	}
	*out = d;
	return AL_OK;
}

void al_store_dir_close(al_store_dir *d)
{
	if (!d)
		return;
	if (d->objs >= 0)
		close(d->objs);
	if (d->root >= 0)
		close(d->root);
	if (d->lock >= 0)
		close(d->lock);
	free(d);
}
