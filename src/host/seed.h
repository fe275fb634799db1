/* The user's root secret on the user's own device: a BIP 39 mnemonic in a file
 * (alight-cli --seed-file). alightd never reads or writes one: the seed reaches the
 * enclave only over the user channel.
 *
 * The file holds the words separated by single spaces and one newline, mode 0600.
 * A new file is written atomically: the words go to a temporary file opened with
 * O_EXCL, which is fsynced and then hard-linked to its name (link(2) never replaces
 * an existing file, so two racing starts cannot end with two seeds), and the
 * directory is fsynced. Reading tolerates surrounding whitespace, CRLF and runs of
 * blanks; the words themselves must be a valid mnemonic (checksum included).
 *
 * Host errors are AL_E_HOST_IO with errno left as the failing call set it. Every
 * buffer that held words or key material is wiped before returning. */
#ifndef ALIGHT_HOST_SEED_H
#define ALIGHT_HOST_SEED_H

#include <stdbool.h>
#include <stdint.h>

#include "btc/bip39.h"
#include "crypto/rng.h"
#include "crypto/secp.h"
#include "util/err.h"

/* The largest seed file accepted: 24 words and generous whitespace. */
#define AL_SEED_FILE_MAX 1024

/* Read and validate the mnemonic in `path` into `out` (NUL-terminated). Errors:
 * AL_E_HOST_IO (errno ENOENT for a missing file), AL_E_TOO_LARGE past
 * AL_SEED_FILE_MAX, al_bip39_to_entropy's errors for bad words. */
AL_WARN_UNUSED al_err al_seed_read(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *path);

/* The in-memory part of al_seed_read: the `len` bytes of a seed file (not
 * NUL-terminated) normalised into `out` (words joined by single spaces) and validated.
 * AL_E_TOO_LARGE past AL_SEED_FILE_MAX bytes or words, al_bip39_to_entropy's errors
 * otherwise (a NUL byte is part of no valid word). `out` is wiped on error. */
AL_WARN_UNUSED al_err al_seed_parse(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *buf,
                                    size_t len);

/* Create `path` holding a fresh 24-word mnemonic from `rng` (also returned in out).
 * AL_E_HOST_IO with errno EEXIST if the file exists: a seed is never overwritten. */
AL_WARN_UNUSED al_err al_seed_create(char out[AL_BIP39_MNEMONIC_BUFLEN], const char *path,
                                     const al_rng *rng);

/* Read `path`, or create it if it does not exist (*created tells which). */
AL_WARN_UNUSED al_err al_seed_load_or_create(char out[AL_BIP39_MNEMONIC_BUFLEN], bool *created,
                                             const char *path, const al_rng *rng);

/* Write a given mnemonic to a new file `path` (as al_seed_create writes). AL_E_HOST_IO
 * with errno EEXIST if the file exists; al_seed_parse's errors for bad words. */
AL_WARN_UNUSED al_err al_seed_write(const char *path, const char *mnemonic);

#endif
