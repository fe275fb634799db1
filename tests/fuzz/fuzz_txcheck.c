/* Fuzz target: devchain's transaction validation (src/chain/txcheck.h) on arbitrary
 * bytes, as POST /tx receives them. Every outpoint is found in a view whose coins
 * are derived from the input, so the input, fee and script rules all run. A result
 * outside the documented set, or an arena not given back, traps. */
#include <stdint.h>
#include <string.h>

#include "btc/interp.h"
#include "chain/txcheck.h"

static _Alignas(16) uint8_t mem[1 << 20];
static _Alignas(16) uint8_t secp_mem[1 << 20];
static al_secp *secp;

static bool view_coin(void *arg, const uint8_t txid[32], uint32_t vout, al_coin *out)
{
	static const uint8_t spk[22] = {0x00, 0x14};

	if (txid[0] == 0xee)
		return false; /* some inputs are missing */
	out->out.amount = al_sat_of((uint64_t)txid[1] * 100000 + vout);
	out->out.script = (al_bytes){spk, txid[2] & 1 ? sizeof(spk) : 2};
	out->height = txid[3];
	out->coinbase = txid[4] & 1;
	return true;
}

static uint32_t view_mtp(void *arg, uint32_t height)
{
	return 1600000000 + 600 * height;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_txcheck_view v = {view_coin, view_mtp, NULL, 150};
	al_txcheck_result r;
	al_arena a;
	al_tx tx;
	al_err e;

	if (!secp && al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK)
		__builtin_trap();
	al_arena_init(&a, mem, sizeof(mem));
	e = al_tx_parse(&tx, &a, data, size);
	if (e == AL_E_TX_AMOUNT) {
		e = al_tx_bad_amount(data, size);
		if (e != AL_E_TXV_VOUT_NEGATIVE && e != AL_E_TXV_VOUT_TOOLARGE)
			__builtin_trap();
		return 0;
	}
	if (e != AL_OK)
		return 0;
	for (size_t i = 0; i < tx.n_out; i++)
		(void)al_tx_dust_threshold(&tx.out[i]);
	(void)al_tx_is_final(&tx, 100, 1600000000);
	{
		size_t used = al_arena_used(&a);

		e = al_tx_check_mempool(secp, &tx, &v, &a, &r);
		if (al_arena_used(&a) != used)
			__builtin_trap();
	}
	if (e != AL_OK && (e < AL_E_TXV_VIN_EMPTY || e > AL_E_TXV_ALREADY_KNOWN) && e != AL_E_NOMEM)
		__builtin_trap();
	if ((e == AL_E_TXV_SCRIPT_POLICY || e == AL_E_TXV_SCRIPT_CONSENSUS) &&
	    r.script_err == AL_OK)
		__builtin_trap();
	return 0;
}
