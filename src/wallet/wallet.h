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

/* ---- fee caps ----------------------------------------------------------------------
 * ARCHITECTURE.md: "Fee caps bound what any chain-server answer can make the wallet pay."
 * Every transaction the wallet builds (al_wallet_send, al_wallet_bump_fee) is held, once
 * signed, to three caps on its fee:
 *  - the fee rate: at most max_feerate (AL_E_WALLET_FEE_RATE_CAP). Default 0.1 BTC/kvB
 *    (10,000 sat/vB), Bitcoin Core's maxfeerate (DEFAULT_MAX_RAW_TX_FEE_RATE, and its
 *    wallet's -maxfeerate default);
 *  - the fee: at most max_fee (AL_E_WALLET_FEE_ABS_CAP). Default 0.1 BTC, Core's
 *    -maxtxfee (DEFAULT_TRANSACTION_MAXFEE);
 *  - the fee against the amount sent (the outputs not on our change chain): at most
 *    max_fee_permille of it (AL_E_WALLET_FEE_SHARE_CAP). Default 10%. Core has no such
 *    cap and the two above allow a fee larger than a small payment; Electrum warns from
 *    5% (FEE_RATIO_HIGH_WARNING). So a lying estimate burns at most a tenth of a
 *    payment; a small payment in a busy hour may need the override.
 * A larger fee needs the user's explicit override for that one transaction
 * (al_wallet_send_opts). A chain server's fee estimate is untrusted: al_wallet_fee_clamp
 * turns it into the rate to pay, at most max_estimate. Default 1,500 sat/vB, Electrum's
 * FEERATE_MAX_DYNAMIC (the ceiling it puts on server estimates), far above ordinary
 * next-block rates; a user who wants more names the rate (the caps still apply). */
#define AL_WALLET_MAX_FEERATE      10000000u /* sat per 1000 vB */
#define AL_WALLET_MAX_FEE          10000000u /* sat */
#define AL_WALLET_MAX_FEE_PERMILLE 100u
#define AL_WALLET_MAX_ESTIMATE     1500000u /* sat per 1000 vB */

typedef struct al_wallet_fee_caps {
	uint64_t max_feerate; /* sat per 1000 vB */
	al_sat max_fee;
	uint32_t max_fee_permille; /* of the amount sent */
	uint64_t max_estimate;     /* sat per 1000 vB: al_wallet_fee_clamp's ceiling */
} al_wallet_fee_caps;

/* Options of one send or fee bump (NULL: all defaults). */
typedef struct al_wallet_send_opts {
	/* The user's explicit override of the caps for this transaction: the largest fee
	 * they accept, shown to them first. Not 0: the caps are not applied and a larger fee
	 * is AL_E_WALLET_FEE_ABS_CAP. 0: the caps apply. */
	al_sat fee_override;
	/* Coins the wallet must not select (NULL: none): true for an outpoint held
	 * elsewhere, e.g. an input of a channel's on-chain claim paying its fees (a payment
	 * spending it would make the chain refuse that claim). */
	bool (*held)(void *arg, const uint8_t txid[32], uint32_t vout);
	void *held_arg;
} al_wallet_send_opts;

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
	al_wallet_fee_caps caps; /* the defaults until al_wallet_set_fee_caps */
	al_arena *scratch;       /* transaction parsing, building and the interpreter */
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

/* The defaults above. */
void al_wallet_fee_caps_default(al_wallet_fee_caps *caps);
/* Replace the wallet's caps. AL_E_ARG unless AL_WALLET_MIN_FEERATE <= max_estimate <=
 * max_feerate, 0 < max_fee <= MAX_MONEY and 0 < max_fee_permille <= 1000. */
AL_WARN_UNUSED al_err al_wallet_set_fee_caps(al_wallet *w, const al_wallet_fee_caps *caps);
/* The rate to pay for an untrusted fee estimate (sat per 1000 vB, e.g.
 * al_esplora_parse_fee's): raised to AL_WALLET_MIN_FEERATE, lowered to max_estimate. */
uint64_t al_wallet_fee_clamp(const al_wallet_fee_caps *caps, uint64_t estimate);

/* Pay `amount` to `script` at `feerate` (sat per 1000 vB, raised to
 * AL_WALLET_MIN_FEERATE): coin selection over confirmed UTXOs and our own unconfirmed
 * change (branch-and-bound for a changeless result, else largest first with change
 * when it is above the dust threshold), version 2, nLockTime the server's tip height
 * (al_sync_server_height), every input signalling BIP 125, signed (BIP 143) and every
 * input verified by the interpreter with the standard flags, then held to the fee caps
 * (unless `opts` overrides them). The serialized transaction goes to out (cap bytes),
 * its txid and fee to the last outputs. Errors: AL_E_WALLET_FEE_RATE_CAP (for `feerate` itself
 * before anything is selected, or for the signed transaction's rate), AL_E_WALLET_FEE_ABS_CAP,
 * AL_E_WALLET_FEE_SHARE_CAP, AL_E_WALLET_DUST, AL_E_WALLET_FUNDS, AL_E_BUFSIZE, the interpreter's;
 * on any error *out_len is 0 and nothing was written that could be broadcast. Nothing is recorded:
 * call al_wallet_commit_tx after a successful broadcast. Coins opts->held names are never
 * selected. */
AL_WARN_UNUSED al_err al_wallet_send(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len,
                                     uint8_t txid[32], al_sat *fee, const uint8_t *script,
                                     size_t script_len, al_sat amount, uint64_t feerate,
                                     const al_wallet_send_opts *opts);

/* A replacement of unconfirmed wallet transaction `txid` paying `feerate` (sat per 1000
 * vB), the fee taken from its change output: BIP 125 rule 3 (no less absolute fee than
 * the original) and rule 4 (the extra fee pays for the replacement's own size at the
 * minimum relay rate); held to the fee caps as al_wallet_send is. Errors:
 * AL_E_WALLET_UNKNOWN_TX (not a wallet transaction whose inputs are all ours),
 * AL_E_WALLET_CONFIRMED, AL_E_WALLET_NOT_RBF, AL_E_WALLET_FEERATE (not above the
 * original's rate), the cap errors, AL_E_WALLET_FUNDS (no change output that can pay
 * the difference and stay above dust). */
AL_WARN_UNUSED al_err al_wallet_bump_fee(al_wallet *w, uint8_t *out, size_t cap, size_t *out_len,
                                         uint8_t new_txid[32], al_sat *fee, const uint8_t txid[32],
                                         uint64_t feerate, const al_wallet_send_opts *opts);

/* Sign the inputs of transaction `raw` that spend this wallet's UTXOs (BIP 143,
 * SIGHASH_ALL), each then verified by the interpreter; the other inputs are left as they
 * are (a channel's claim, signed by its signer). The signed transaction goes to out.
 * Errors: AL_E_WALLET_UNKNOWN_TX (no input is ours), AL_E_BUFSIZE, al_tx_parse's and
 * the interpreter's; on any error *out_len is 0. */
AL_WARN_UNUSED al_err al_wallet_sign_inputs(al_wallet *w, const uint8_t *raw, size_t len,
                                            uint8_t *out, size_t cap, size_t *out_len);

/* Record a transaction the host broadcast (or will): the sync watches it with its bytes
 * and the wallet updates. */
AL_WARN_UNUSED al_err al_wallet_commit_tx(al_wallet *w, const uint8_t *raw, size_t len);

/* Persistence: the used indices followed by the sync's state. al_wallet_load needs a
 * freshly initialised wallet and sync. */
void al_wallet_save(const al_wallet *w, al_wb *out);
AL_WARN_UNUSED al_err al_wallet_load(al_wallet *w, const uint8_t *data, size_t len);

#endif
