/* Bitcoin transactions: parse, serialize (BIP 144 segwit), txid/wtxid, weight.
 *
 * A parsed transaction borrows: scripts and witness items point into the raw bytes
 * it was parsed from, and its arrays come from the caller's arena. A built
 * transaction (al_tx_init + al_tx_add_*) borrows the caller's script buffers the
 * same way. Nothing here allocates on its own. */
#ifndef ALIGHT_BTC_TX_H
#define ALIGHT_BTC_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/amount.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

/* A borrowed byte string. */
typedef struct al_bytes {
	const uint8_t *p;
	size_t len;
} al_bytes;

/* Copy `len` bytes into the arena and point `out` at the copy. */
AL_WARN_UNUSED al_err al_bytes_dup(al_bytes *out, al_arena *a, const uint8_t *src, size_t len);

/* Hard bounds on what the parser accepts: a standard transaction is at most
 * 400,000 weight units, so no real transaction comes near these. */
#define AL_TX_MAX_SIZE      4000000
#define AL_TX_MAX_INPUTS    100000
#define AL_TX_MAX_OUTPUTS   100000
#define AL_TX_MAX_WITNESSES 100000

typedef struct al_tx_in {
	uint8_t txid[32]; /* previous txid, internal byte order (as serialized) */
	uint32_t vout;
	al_bytes script_sig;
	uint32_t sequence;
	size_t n_witness;
	al_bytes *witness; /* n_witness items */
} al_tx_in;

typedef struct al_tx_out {
	al_sat amount;
	al_bytes script;
} al_tx_out;

typedef struct al_tx {
	uint32_t version;
	size_t n_in, n_out;
	size_t cap_in, cap_out; /* capacity of in[]/out[] for builders */
	al_tx_in *in;
	al_tx_out *out;
	uint32_t locktime;
} al_tx;

/* Parse a complete serialized transaction (with or without witness). The whole of
 * `raw` must be consumed; it must stay alive as long as `tx` is used. Errors:
 * AL_E_TRUNCATED, AL_E_TRAILING, AL_E_TX_SEGWIT_FLAG, AL_E_TX_EMPTY_WITNESS (BIP 144:
 * a marker but no witness), AL_E_TX_COUNT, AL_E_TX_NONCANONICAL, AL_E_TX_AMOUNT,
 * AL_E_TOO_LARGE, AL_E_NOMEM. On error the arena is restored to where it was. */
AL_WARN_UNUSED al_err al_tx_parse(al_tx *tx, al_arena *a, const uint8_t *raw, size_t len);

/* Start an empty transaction with room for max_in inputs and max_out outputs. */
AL_WARN_UNUSED al_err al_tx_init(al_tx *tx, al_arena *a, uint32_t version, uint32_t locktime,
                                 size_t max_in, size_t max_out);
/* Append an input with empty scriptSig and no witness, or an output; AL_E_RANGE
 * when the capacity given to al_tx_init is used up. */
AL_WARN_UNUSED al_err al_tx_add_input(al_tx *tx, const uint8_t txid[32], uint32_t vout,
                                      uint32_t sequence);
AL_WARN_UNUSED al_err al_tx_add_output(al_tx *tx, al_sat amount, const uint8_t *script,
                                       size_t script_len);
/* Give input `i` a witness of n items copied (as al_bytes, still borrowing the item
 * bytes) into the arena. */
AL_WARN_UNUSED al_err al_tx_set_witness(al_tx *tx, al_arena *a, size_t i, const al_bytes *items,
                                        size_t n);

bool al_tx_has_witness(const al_tx *tx);
/* Serialize; with_witness=false gives the legacy form used for the txid. */
void al_tx_write(al_wb *w, const al_tx *tx, bool with_witness);
/* Serialized length (with_witness as above). */
size_t al_tx_len(const al_tx *tx, bool with_witness);
/* BIP 141 weight and virtual size (rounded up). */
size_t al_tx_weight(const al_tx *tx);
size_t al_tx_vsize(const al_tx *tx);

/* Double SHA-256 of the legacy / witness serialization, internal byte order. */
void al_tx_txid(const al_tx *tx, uint8_t out[32]);
void al_tx_wtxid(const al_tx *tx, uint8_t out[32]);

/* Hex of a txid in the usual display order (byte-reversed), 65 bytes with NUL. */
void al_txid_to_hex(char out[65], const uint8_t txid[32]);
/* Parse a display-order txid. */
AL_WARN_UNUSED al_err al_txid_from_hex(uint8_t txid[32], const char *hex);

/* The total of all outputs, checked against overflow and MAX_MONEY. */
AL_WARN_UNUSED al_err al_tx_output_total(const al_tx *tx, al_sat *out);

#endif
