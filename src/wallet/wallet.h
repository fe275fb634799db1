/* The on-chain wallet: a BIP 84 account (P2WPKH) from the node seed, its receive and
 * change chains with a gap limit, UTXOs derived from what chain sync (chain/sync.h)
 * has checked, coin selection, signing with a self-check by the script interpreter,
 * and BIP 125 fee bumping.
 *
 * The wallet keeps no chain state of its own: every al_wallet_update rebuilds UTXOs and
 * balances from the sync's committed transactions and confirmations, so a
 * reorganisation the sync unwinds is reflected at once. The host performs the I/O:
 * it runs sync steps, broadcasts what al_wallet_send / al_wallet_bump_fee produce,
 * tells the wallet (al_wallet_commit_tx), and persists al_wallet_save's bytes.
 *
 * Secrets: the account's extended private key lives in the al_wallet; al_wallet_clear
 * wipes it. Child keys are derived for each signature and wiped after use. */
#ifndef ALIGHT_WALLET_WALLET_H
#define ALIGHT_WALLET_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btc/bip32.h"
#include "btc/network.h"
#include "btc/tx.h"
#include "chain/sync.h"
#include "crypto/secp.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/cursor.h"
#include "util/err.h"

/* BIP 44: "address gap limit is currently set to 20". */
#define AL_WALLET_GAP 20
/* Addresses per chain the wallet will derive. */
#define AL_WALLET_MAX_INDEX 512
#define AL_WALLET_MAX_UTXOS 1024
/* BIP 84 purpose. */
#define AL_WALLET_PURPOSE 84
/* Fee rate floor, sat per 1000 vbytes (1 sat/vB, the default minimum relay fee). */
#define AL_WALLET_MIN_FEERATE 1000
/* Size estimates (vbytes) for P2WPKH, upper bounds: an input (41 bytes, witness of at
 * most 107: signatures are low-R ground, at most 70 DER bytes plus the sighash byte;
 * 67.75 vB rounded up, Core's 68), an output, and the transaction's fixed part with the
 * segwit marker (10.5 vB rounded up). */
#define AL_WALLET_VIN_VB  68
#define AL_WALLET_VOUT_VB 31
#define AL_WALLET_TX_VB   11
/* Core's COINBASE_MATURITY. */
#define AL_WALLET_MATURITY 100
/* BIP 125: "an nSequence number less than (0xffffffff - 1)" signals replaceability. */
#define AL_WALLET_SEQUENCE_RBF 0xfffffffdu

enum { AL_WALLET_RECEIVE = 0, AL_WALLET_CHANGE = 1 };

typedef struct al_wallet_utxo {
	uint8_t txid[32];
	uint32_t vout;
	al_sat value;
	uint8_t chain; /* AL_WALLET_RECEIVE or AL_WALLET_CHANGE */
	uint32_t index;
	uint32_t confirmations; /* 0: unconfirmed */
	uint32_t height;        /* when confirmed */
	bool coinbase;
	bool ours_unconfirmed; /* an unconfirmed output of a transaction we made */
} al_wallet_utxo;

typedef struct al_wallet_balance {
	al_sat confirmed;   /* spendable, confirmed */
	al_sat unconfirmed; /* not yet confirmed */
	al_sat immature;    /* coinbase outputs below maturity */
} al_wallet_balance;

typedef struct al_wallet {
	const al_secp *secp;
	al_net net;
	al_sync *sync;
	al_xkey chain_key[2]; /* m/84'/coin'/0'/0 and /1, private */
	uint32_t next[2];     /* first unused index */
	uint32_t derived[2];  /* scripts registered with the sync */
	uint8_t h160[2][AL_WALLET_MAX_INDEX][20];
	al_wallet_utxo *utxos; /* AL_WALLET_MAX_UTXOS, from the arena */
	size_t n_utxos;
	al_wallet_balance bal;
	al_arena *scratch; /* transaction parsing, building and the interpreter */
} al_wallet;

/* Arena bytes al_wallet_init takes (the scratch arena is separate: give it
 * al_interp_scratch_size() plus 1 MiB). */
size_t al_wallet_mem_size(void);

/* Derive the BIP 84 account m/84'/coin'/0' (coin 0 on mainnet, 1 elsewhere) from a BIP
 * 32 seed (16..64 bytes, e.g. al_bip39_to_seed's) and register the first gap of
 * scripts with the sync. */
AL_WARN_UNUSED al_err al_wallet_init(al_wallet *w, const al_secp *secp, al_arena *a,
                                     al_arena *scratch, al_sync *sync, al_net net,
                                     const uint8_t *seed, size_t seed_len);
void al_wallet_clear(al_wallet *w);

/* The P2WPKH script and address of chain/index (index < AL_WALLET_MAX_INDEX). */
AL_WARN_UNUSED al_err al_wallet_script(const al_wallet *w, uint8_t script[22], uint8_t chain,
                                       uint32_t index);
AL_WARN_UNUSED al_err al_wallet_address(const al_wallet *w, char *out, size_t cap, uint8_t chain,
                                        uint32_t index);
/* A fresh receive address: the first unused index, then marked used (the gap is
 * extended and its scripts registered). AL_E_WALLET_FULL past AL_WALLET_MAX_INDEX. */
AL_WARN_UNUSED al_err al_wallet_new_address(al_wallet *w, char *out, size_t cap);

/* Rebuild UTXOs and balances from the sync's committed state; marks the indices that
 * received funds as used and registers scripts to keep the gap. *more is set when
 * scripts were added (run another sync step to look them up). */
AL_WARN_UNUSED al_err al_wallet_update(al_wallet *w, bool *more);
const al_wallet_balance *al_wallet_get_balance(const al_wallet *w);
size_t al_wallet_utxo_count(const al_wallet *w);
const al_wallet_utxo *al_wallet_utxo_at(const al_wallet *w, size_t i);

/* Pay `amount` to `script` at `feerate` (sat per 1000 vB, raised to
 * AL_WALLET_MIN_FEERATE): coin selection over confirmed UTXOs and our own unconfirmed
 * change (branch-and-bound for a changeless result, else largest first with change
 * when it is above the dust threshold), version 2, nLockTime the tip height, every
 * input signalling BIP 125, signed (BIP 143) and every input verified by the
 * interpreter with the standard flags. The serialized transaction goes to out (cap
 * bytes), its txid and fee to the last outputs. Errors: AL_E_WALLET_DUST,
 * AL_E_WALLET_FUNDS, AL_E_BUFSIZE, the interpreter's. Nothing is recorded: call
 * al_wallet_commit_tx after a successful broadcast. */
AL_WARN_UNUSED al_err al_wallet_send(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len,
                                     uint8_t txid[32], al_sat *fee, const uint8_t *script,
                                     size_t script_len, al_sat amount, uint64_t feerate);

/* A replacement of unconfirmed wallet transaction `txid` paying `feerate` (sat per 1000
 * vB), the fee taken from its change output: BIP 125 rule 3 (no less absolute fee than
 * the original) and rule 4 (the extra fee pays for the replacement's own size at the
 * minimum relay rate). Errors: AL_E_WALLET_UNKNOWN_TX (not a wallet transaction whose
 * inputs are all ours), AL_E_WALLET_CONFIRMED, AL_E_WALLET_NOT_RBF,
 * AL_E_WALLET_FEERATE (not above the original's rate), AL_E_WALLET_FUNDS (no change
 * output that can pay the difference and stay above dust). */
AL_WARN_UNUSED al_err al_wallet_bump_fee(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len,
                                         uint8_t new_txid[32], al_sat *fee, const uint8_t txid[32],
                                         uint64_t feerate);

/* Record a transaction the host broadcast (or will): the sync watches it with its bytes
 * and the wallet updates. */
AL_WARN_UNUSED al_err al_wallet_commit_tx(al_wallet *w, const uint8_t *raw, size_t len);

/* Persistence: the used indices followed by the sync's state. al_wallet_load needs a
 * freshly initialised wallet and sync. */
void al_wallet_save(const al_wallet *w, al_wb *out);
AL_WARN_UNUSED al_err al_wallet_load(al_wallet *w, const uint8_t *data, size_t len);

#endif
