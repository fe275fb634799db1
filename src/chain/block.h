/* Blocks: the 80-byte header, proof of work, merkle trees (txids, wtxids, branches
 * and BIP 37 partial trees), the BIP 141 witness commitment, the BIP 34 height and
 * the genesis blocks. Everything a light client needs to check what an untrusted
 * chain source tells it, and what a regtest miner needs to produce real blocks.
 *
 * Hashes are in internal byte order (as serialized; the display order is reversed).
 * Nothing here allocates: trees are recomputed recursively with O(log n) stack. */
#ifndef ALIGHT_CHAIN_BLOCK_H
#define ALIGHT_CHAIN_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "btc/tx.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

#define AL_BLOCK_HEADER_LEN 80
/* BIP 141: "Blocks are limited to a weight of 4,000,000". */
#define AL_BLOCK_MAX_WEIGHT 4000000
/* The smallest transaction weighs 240 (60 bytes without witness), which bounds the
 * transaction count a partial merkle tree may claim (Core's MIN_TRANSACTION_WEIGHT). */
#define AL_BLOCK_MAX_TX (AL_BLOCK_MAX_WEIGHT / 240)
/* Heights are below 2^31 (as Core's int nHeight): one more is always a height too. */
#define AL_BLOCK_MAX_HEIGHT 0x7fffffffu
/* BIP 34 coinbase scriptSig: 2 to 100 bytes (Core's "bad-cb-length"). */
#define AL_COINBASE_SCRIPT_MIN 2
#define AL_COINBASE_SCRIPT_MAX 100
/* BIP 141: OP_RETURN, push of 36 bytes, 0xaa21a9ed, then the 32-byte commitment. */
#define AL_WITNESS_COMMIT_SCRIPT_LEN 38

typedef struct al_block_header {
	uint32_t version;
	uint8_t prev_hash[32];
	uint8_t merkle_root[32];
	uint32_t time;
	uint32_t bits;
	uint32_t nonce;
} al_block_header;

/* Exactly 80 bytes: AL_E_TRUNCATED if shorter, AL_E_TRAILING if longer. */
AL_WARN_UNUSED al_err al_block_header_parse(al_block_header *h, const uint8_t *raw, size_t len);
void al_block_header_write(uint8_t out[AL_BLOCK_HEADER_LEN], const al_block_header *h);
/* Double SHA-256 of the serialized header. */
void al_block_header_hash(uint8_t out[32], const al_block_header *h);
/* Read a header from a cursor (for blocks and merkleblocks). */
void al_block_header_read(al_cur *c, al_block_header *h);

/* ---- 256-bit numbers, targets and work ------------------------------------------ */

/* Unsigned 256-bit integer, w[0] least significant. */
typedef struct al_u256 {
	uint32_t w[8];
} al_u256;

/* A hash in internal byte order is a little-endian number. */
void al_u256_from_le(al_u256 *out, const uint8_t in[32]);
/* Big-endian bytes, the order Core prints chainwork and targets in. */
void al_u256_to_be(uint8_t out[32], const al_u256 *a);
int al_u256_cmp(const al_u256 *a, const al_u256 *b);
/* a + b; false (out untouched) on overflow. */
AL_WARN_UNUSED bool al_u256_add(al_u256 *out, const al_u256 *a, const al_u256 *b);

/* Decode a compact target ("nBits": 8-bit exponent, 23-bit mantissa, sign bit).
 * AL_E_CHAIN_BITS for a negative, zero or overflowing value, as Core's
 * CheckProofOfWork refuses them. */
AL_WARN_UNUSED al_err al_bits_to_target(al_u256 *target, uint32_t bits);
/* Encode a target in compact form (rounding down, never setting the sign bit). */
uint32_t al_target_to_bits(const al_u256 *target);
/* The highest target (lowest difficulty) a network allows. */
void al_pow_limit(al_u256 *out, al_net net);
/* Check that `hash` (internal order) is at or below the target `bits` encodes and
 * that this target does not exceed `limit`. AL_E_CHAIN_BITS for an invalid or too
 * easy target, AL_E_CHAIN_POW for a hash above the target. */
AL_WARN_UNUSED al_err al_pow_check(const uint8_t hash[32], uint32_t bits, const al_u256 *limit);
/* Header proof of work for `net`: al_pow_check of the header's own hash. */
AL_WARN_UNUSED al_err al_block_header_check_pow(const al_block_header *h, al_net net);
/* The expected number of hashes for a target: 2^256 / (target + 1), Core's GetBlockProof.
 * A zero work is returned for an invalid `bits`. */
void al_block_work(al_u256 *work, uint32_t bits);

/* ---- merkle trees ------------------------------------------------------------------ */

/* The merkle root over n >= 1 leaves (txids or wtxids, internal order), duplicating
 * the last node of an odd level. `mutated` (may be NULL) is set when two equal
 * sibling nodes were hashed: CVE-2012-2459, the same root for a different list.
 * AL_E_ARG for n == 0. */
AL_WARN_UNUSED al_err al_merkle_root(uint8_t root[32], bool *mutated, const uint8_t (*leaves)[32],
                                     size_t n);

/* Height of the tree over n leaves: the number of hashes in a branch. */
size_t al_merkle_depth(size_t n);

/* The branch proving leaf `pos` of n: al_merkle_depth(n) sibling hashes, bottom up,
 * into `branch` (room for `cap`), the Electrum/Esplora merkle-proof list.
 * AL_E_RANGE for pos >= n, AL_E_BUFSIZE when cap is too small. */
AL_WARN_UNUSED al_err al_merkle_branch(uint8_t (*branch)[32], size_t cap, size_t *n_branch,
                                       const uint8_t (*leaves)[32], size_t n, size_t pos);

/* The root a branch leads to from `leaf` at `pos`. AL_E_RANGE when pos does not fit
 * in n_branch levels. */
AL_WARN_UNUSED al_err al_merkle_branch_root(uint8_t root[32], const uint8_t leaf[32],
                                            const uint8_t (*branch)[32], size_t n_branch,
                                            uint32_t pos);
/* Check a branch against the root from a header. A branch alone does not bind the
 * tree's depth: a 64-byte transaction hashes like an inner node (the leaf-node weakness,
 * CVE-2017-12842), so a proof can stop at an inner node or run on below a real 64-byte
 * transaction. Checks, in this order:
 *  - when n_tx is not 0 (the block's transaction count): the branch has
 *    al_merkle_depth(n_tx) hashes (AL_E_CHAIN_MERKLE_DEPTH) and pos < n_tx;
 *  - pos fits in the branch's levels (AL_E_CHAIN_MERKLE_POS for either);
 *  - with n_tx, at every level the sibling is the node itself exactly where the node is
 *    the last of an odd level, and differs from it everywhere else
 *    (AL_E_CHAIN_MERKLE_PADDING: a position path the count cannot have, or CVE-2012-2459
 *    mutation);
 *  - no node on the path (the 64 bytes hashed at each level) has the one shape a 64-byte
 *    transaction can have (AL_E_CHAIN_MERKLE_INNER_TX), as Electrum's verifier refuses;
 *  - the branch leads to `root` (AL_E_CHAIN_MERKLE).
 * The caller refuses a 64-byte transaction as the leaf itself (AL_E_CHAIN_TX64) when it
 * has its bytes. */
AL_WARN_UNUSED al_err al_merkle_branch_verify(const uint8_t root[32], const uint8_t leaf[32],
                                              const uint8_t (*branch)[32], size_t n_branch,
                                              uint32_t pos, size_t n_tx);
/* The serialized size without witness that hashes like a merkle tree's inner node.
 * Bitcoin Core's policy has refused it since 0.16 (MIN_STANDARD_TX_NONWITNESS_SIZE, 82
 * then, 65 since 25.0: "one larger than 64"); BIP 54 (Consensus Cleanup) would make it
 * invalid. */
#define AL_TX_AMBIGUOUS_LEN 64

/* ---- BIP 37 merkleblock (partial merkle tree) ------------------------------------- */

typedef struct al_merkleblock {
	al_block_header header;
	uint32_t n_tx;         /* transactions in the block */
	size_t n_hashes;       /* hashes in the partial tree */
	const uint8_t *hashes; /* n_hashes * 32 bytes, borrowed from the input */
	size_t n_flag_bytes;
	const uint8_t *flags; /* borrowed; bit i of the traversal is byte i/8, bit i%8 */
} al_merkleblock;

/* Serialize a merkleblock (header, total, hashes, flag bytes) proving the leaves
 * for which match[i] is true, as bitcoind's gettxoutproof does. n >= 1. */
AL_WARN_UNUSED al_err al_merkleblock_write(al_wb *w, const al_block_header *h,
                                           const uint8_t (*leaves)[32], size_t n,
                                           const bool *match);

/* Parse a serialized merkleblock; `raw` must stay alive while `mb` is used.
 * AL_E_TRUNCATED, AL_E_TRAILING, AL_E_TX_NONCANONICAL, or AL_E_CHAIN_MERKLEBLOCK for
 * counts no block can have (zero or over AL_BLOCK_MAX_TX transactions, more hashes
 * than transactions, fewer flag bits than hashes). */
AL_WARN_UNUSED al_err al_merkleblock_parse(al_merkleblock *mb, const uint8_t *raw, size_t len);

/* Walk the partial tree as BIP 37 describes: compute its root and collect the
 * matched leaves (txids into `matched`, their positions into `pos`, both with room
 * for `cap`; either may be NULL when cap is 0). Errors: AL_E_CHAIN_MERKLEBLOCK for a
 * tree that runs out of hashes or bits, leaves any unused (beyond the padding of
 * the last flag byte), or hashes two equal siblings (CVE-2012-2459); AL_E_BUFSIZE
 * when more than `cap` leaves match; AL_E_CHAIN_MERKLE when the root differs from
 * the header's merkle root. */
AL_WARN_UNUSED al_err al_merkleblock_extract(const al_merkleblock *mb, uint8_t (*matched)[32],
                                             uint32_t *pos, size_t cap, size_t *n_matched);

/* ---- coinbase: BIP 34 height, BIP 141 witness commitment -------------------------- */

/* BIP 34: the coinbase scriptSig starts with the height as a minimal script number
 * push (Core: `CScript() << nHeight`, so OP_1..OP_16 for 1..16). */
void al_bip34_height_push(al_wb *w, uint32_t height);
/* Does a coinbase scriptSig start with exactly that push? */
bool al_bip34_check(const uint8_t *script_sig, size_t len, uint32_t height);

/* BIP 141: Double-SHA256(witness root hash | witness reserved value). */
void al_witness_commitment(uint8_t out[32], const uint8_t wtxid_root[32],
                           const uint8_t reserved[32]);
/* The commitment output script (38 bytes). */
void al_witness_commitment_script(al_wb *w, const uint8_t commitment[32]);
/* BIP 141: "If there are more than one scriptPubKey matching the pattern, the one
 * with highest output index is assumed to be the commitment." Returns the output
 * index, or -1 when the coinbase has none; the commitment goes to `out` (may be NULL). */
long al_witness_commitment_find(const al_tx *coinbase, uint8_t out[32]);

/* ---- whole blocks ---------------------------------------------------------------- */

typedef struct al_block {
	al_block_header header;
	size_t n_tx;
	al_tx *tx; /* n_tx transactions, from the arena */
} al_block;

/* Parse a serialized block; `raw` must outlive `b` (transactions borrow from it).
 * AL_E_CHAIN_NO_TX for zero transactions or more than AL_BLOCK_MAX_TX, otherwise the
 * errors of al_tx_parse and the cursor. */
AL_WARN_UNUSED al_err al_block_parse(al_block *b, al_arena *a, const uint8_t *raw, size_t len);

/* The length of the serialized transaction at the start of `raw` (BIP 144 layout),
 * found by skipping over its fields without checking them (al_tx_parse does), or 0
 * when it runs past `len`. A block concatenates transactions with no length prefix.
 * `bad_amount` (may be NULL) receives the first output amount above MAX_MONEY, as
 * Core's signed CAmount, or 0. */
size_t al_tx_span(const uint8_t *raw, size_t len, int64_t *bad_amount);

/* Is this the coinbase form: one input spending the null outpoint? */
bool al_tx_is_coinbase(const al_tx *tx);

/* Context-free and BIP 34/141 checks of a block at `height`, as Core's CheckBlock and
 * ContextualCheckBlock do them (not the transactions' inputs): proof of work for
 * `net`, exactly one coinbase and first, merkle root (and no mutation), coinbase
 * scriptSig length and height, witness commitment (or no witness at all), weight.
 * `scratch` holds 64 bytes per transaction during the call. */
AL_WARN_UNUSED al_err al_block_check(const al_block *b, al_net net, uint32_t height,
                                     al_arena *scratch);

/* The genesis block of `net` (285 bytes, one coinbase paying 50 BTC). */
size_t al_genesis_block_len(void);
void al_genesis_block_write(al_wb *w, al_net net);
void al_genesis_header(al_block_header *h, al_net net);

#endif
