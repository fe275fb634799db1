/* A key-value backend in a local directory (the embedded default).
 *
 * One file per object, named by the object's opaque name in hex; the file holds a
 * small header with the object's version, then the sealed record the al_kv handed
 * in. Batches are made atomic by a write-ahead journal (store_dir.c explains the
 * crash semantics). One process at a time: opening takes a POSIX record lock. */
#ifndef ALIGHT_HOST_STORE_DIR_H
#define ALIGHT_HOST_STORE_DIR_H

#include "store/kv.h"

typedef struct al_store_dir al_store_dir;

/* Open (creating if needed) the store in directory `path`, finishing a batch that a
 * crash interrupted after its commit point and removing the debris of one that a
 * crash interrupted before it. A journal that cannot be read is AL_E_STORE_BACKEND:
 * a committed batch is never silently dropped. */
AL_WARN_UNUSED al_err al_store_dir_open(al_store_dir **out, const char *path);
void al_store_dir_close(al_store_dir *d);

/* The backend table; its ctx is the al_store_dir. */
extern const al_kv_backend al_store_dir_backend;

#endif
