/* A key-value backend in an SQLite database.
 *
 * Table objects(name BLOB PRIMARY KEY, version, value) holds the opaque objects and
 * table store the global version. A batch is one IMMEDIATE transaction, so it is
 * all or nothing; the database runs in WAL mode with synchronous=FULL, so a
 * committed batch survives power loss before al_kv hears of it. */
#ifndef ALIGHT_HOST_STORE_SQLITE_H
#define ALIGHT_HOST_STORE_SQLITE_H

#include "store/kv.h"

typedef struct al_store_sqlite al_store_sqlite;

/* Open (creating if needed) the database file at `path`. */
AL_WARN_UNUSED al_err al_store_sqlite_open(al_store_sqlite **out, const char *path);
void al_store_sqlite_close(al_store_sqlite *s);

/* The backend table; its ctx is the al_store_sqlite. */
extern const al_kv_backend al_store_sqlite_backend;

#endif
