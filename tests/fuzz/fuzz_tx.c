/* Fuzz target: al_tx_parse on arbitrary bytes.
 *
 * The parser promises to accept only encodings it writes back identically, so any
 * accepted input must reserialize to exactly itself; the derived values (lengths,
 * weight, txid, sighashes) must be computable without fault. A broken promise traps. */
#include <stdint.h>
#include <string.h>

#include "btc/sighash.h"
#include "btc/tx.h"

static uint8_t out[AL_TX_MAX_SIZE];

static void check_derived(const al_tx *tx, size_t size)
{
	static const uint8_t code[] = {0x51};
	static const uint32_t types[] = {0x01, 0x02, 0x03, 0x81, 0x82, 0x83};
	uint8_t d[32];
	al_sat total;
	size_t i;

	if (al_tx_len(tx, true) != size || al_tx_len(tx, false) > size)
		__builtin_trap();
	if (al_tx_weight(tx) < 4 * al_tx_len(tx, false) || al_tx_vsize(tx) > size)
		__builtin_trap();
	al_tx_txid(tx, d);
	al_tx_wtxid(tx, d);
	/* Every parsed amount is valid money, but their sum need not be. */
	if (al_tx_output_total(tx, &total) == AL_OK && !al_sat_is_valid_money(total))
		__builtin_trap();
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && tx->n_in > 0; i++)
		if (al_sighash_segwit_v0(d, tx, tx->n_in - 1, code, sizeof(code), al_sat_of(1),
		                         types[i]) != AL_OK)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mem[32768];
	al_arena a;
	al_tx tx;
	al_wb w;

	al_arena_init(&a, mem, sizeof(mem));
	if (al_tx_parse(&tx, &a, data, size) != AL_OK) {
		/* A failed parse gives back everything it took. */
		if (al_arena_used(&a) != 0)
			__builtin_trap();
		return 0;
	}
	al_wb_init(&w, out, sizeof(out));
	al_tx_write(&w, &tx, true);
	if (!al_wb_ok(&w) || w.len != size || memcmp(out, data, size) != 0)
		__builtin_trap();
	check_derived(&tx, size);
	return 0;
}
