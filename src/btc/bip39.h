/* BIP 39 mnemonic sentences (English word list): entropy to mnemonic, mnemonic to
 * entropy with its checksum verified, and mnemonic plus passphrase to the 64-byte
 * seed that BIP 32 turns into a master key.
 *
 * Normalization: BIP 39 applies UTF-8 NFKD to the mnemonic and the passphrase. The
 * core carries no Unicode tables, so it accepts only ASCII, for which NFKD is the
 * identity, and rejects any other byte with AL_E_BIP39_ASCII rather than derive a
 * seed other wallets would not. A caller with a non-ASCII passphrase must normalize
 * it outside the core first, and cannot pass it here.
 *
 * The words are secrets: the conversions look words up by visiting every entry of
 * the list, with no branch or memory access depending on a word (tests/ctime checks
 * this); only a mnemonic's length and word count, and whether it is valid, are
 * public. al_bip39_word_index is the fast lookup, a binary search in variable time,
 * for a single word the caller does not consider secret (say, input hints). */
#ifndef ALIGHT_BTC_BIP39_H
#define ALIGHT_BTC_BIP39_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define AL_BIP39_WORDCOUNT   2048
#define AL_BIP39_WORD_MAXLEN 8
#define AL_BIP39_MIN_WORDS   12
#define AL_BIP39_MAX_WORDS   24
#define AL_BIP39_ENTROPY_MIN 16
#define AL_BIP39_ENTROPY_MAX 32
/* 24 words of up to 8 letters, 23 spaces and a NUL. */
#define AL_BIP39_MNEMONIC_BUFLEN (AL_BIP39_MAX_WORDS * (AL_BIP39_WORD_MAXLEN + 1))
#define AL_BIP39_SEED_LEN        64
#define AL_BIP39_PASSPHRASE_MAX  1024

/* The English list, sorted (scripts/gen-bip39-wordlist, src/btc/bip39_english.c). */
extern const char *const al_bip39_english[AL_BIP39_WORDCOUNT];

/* Index of a lower-case word of `len` bytes by binary search (variable time);
 * AL_E_BIP39_WORD if absent. */
AL_WARN_UNUSED al_err al_bip39_word_index(uint16_t *index, const char *word, size_t len);

/* Entropy of 16, 20, 24, 28 or 32 bytes (else AL_E_BIP39_ENTROPY) to its mnemonic:
 * words separated by single spaces, plus NUL, in `out` (`outcap` bytes;
 * AL_BIP39_MNEMONIC_BUFLEN always suffices). */
AL_WARN_UNUSED al_err al_bip39_from_entropy(char *out, size_t outcap, const uint8_t *entropy,
                                            size_t len);
/* Mnemonic (`len` bytes, lower-case words separated by single spaces) back to its
 * entropy (`outcap` >= AL_BIP39_ENTROPY_MAX always suffices). Errors, in order:
 * AL_E_BIP39_WORDS unless 12, 15, 18, 21 or 24 words; AL_E_BIP39_WORD for a word
 * not in the list (an empty word from a doubled, leading or trailing space
 * included); AL_E_BIP39_CHECKSUM if the checksum bits do not match. */
AL_WARN_UNUSED al_err al_bip39_to_entropy(uint8_t *out, size_t outcap, size_t *outlen,
                                          const char *mnemonic, size_t len);
/* The seed: PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" || passphrase, 2048 iterations).
 * The mnemonic is validated first (al_bip39_to_entropy's errors): a mistyped
 * mnemonic fails rather than yield an empty wallet. The passphrase may be empty
 * and at most AL_BIP39_PASSPHRASE_MAX bytes (AL_E_TOO_LARGE); non-ASCII:
 * AL_E_BIP39_ASCII (see above). */
AL_WARN_UNUSED al_err al_bip39_to_seed(uint8_t seed[AL_BIP39_SEED_LEN], const char *mnemonic,
                                       size_t mlen, const char *passphrase, size_t passlen);

#endif
