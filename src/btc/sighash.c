/* BIP 143 signature hashes for version 0 witness programs. */
#include "btc/sighash.h"

#include <string.h>

#include "btc/sink.h"
#include "crypto/hash.h"

/* The preimage goes through an al_sink: into a hash for the digest, or into an al_wb
 * so that tests can compare it byte for byte. */

static void put_outpoint(al_sink *s, const al_tx_in *in)
{
	al_sink_bytes(s, in->txid, sizeof(in->txid));
	al_sink_le32(s, in->vout);
}

static void put_output(al_sink *s, const al_tx_out *out)
{
	al_sink_le64(s, out->amount.sat);
	al_sink_varbytes(s, out->script.p, out->script.len);
}

/* Finish a double SHA-256 whose first pass is in `h`. */
static void final_sha256d(al_sha256_ctx *h, uint8_t out[32])
{
	uint8_t first[32];

	al_sha256_final(h, first);
	al_sha256(out, first, sizeof(first));
}

static void hash_prevouts(const al_tx *tx, uint8_t out[32])
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};
	size_t i;

	al_sha256_init(&h);
	for (i = 0; i < tx->n_in; i++)
		put_outpoint(&s, &tx->in[i]);
	final_sha256d(&h, out);
}

static void hash_sequences(const al_tx *tx, uint8_t out[32])
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};
	size_t i;

	al_sha256_init(&h);
	for (i = 0; i < tx->n_in; i++)
		al_sink_le32(&s, tx->in[i].sequence);
	final_sha256d(&h, out);
}

/* Outputs [first, first + n). */
static void hash_outputs(const al_tx *tx, size_t first, size_t n, uint8_t out[32])
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};
	size_t i;

	al_sha256_init(&h);
	for (i = first; i < first + n; i++)
		put_output(&s, &tx->out[i]);
	final_sha256d(&h, out);
}

static al_err check_args(const al_tx *tx, size_t index, uint32_t sighash_type)
{
	uint32_t base = sighash_type & ~(uint32_t)AL_SIGHASH_ANYONECANPAY;

	/* As Bitcoin Core's IsDefinedHashtypeSignature: the type without ANYONECANPAY
	 * must be exactly ALL, NONE or SINGLE. */
	if (base != AL_SIGHASH_ALL && base != AL_SIGHASH_NONE && base != AL_SIGHASH_SINGLE)
		return AL_E_SIGHASH_TYPE;
	if (index >= tx->n_in)
		return AL_E_SIGHASH_INPUT;
	return AL_OK;
}

static void emit_preimage(al_sink *s, const al_tx *tx, size_t index, const uint8_t *script_code,
                          size_t script_code_len, al_sat amount, uint32_t type)
{
	static const uint8_t zero[32];
	bool acp = (type & AL_SIGHASH_ANYONECANPAY) != 0;
	uint32_t base = type & 0x1f;
	uint8_t prevouts[32], sequences[32], outputs[32];
	const al_tx_in *in = &tx->in[index];

	/* BIP 143 hashPrevouts: "If the ANYONECANPAY flag is not set, hashPrevouts is the
	 * double SHA256 of the serialization of all input outpoints; Otherwise,
	 * hashPrevouts is a uint256 of 0x0000......0000." */
	memcpy(prevouts, zero, 32);
	if (!acp)
		hash_prevouts(tx, prevouts);
	/* hashSequence: "If none of the ANYONECANPAY, SINGLE, NONE sighash type is set,
	 * hashSequence is the double SHA256 of the serialization of nSequence of all
	 * inputs; Otherwise, hashSequence is a uint256 of 0x0000......0000." */
	memcpy(sequences, zero, 32);
	if (!acp && base != AL_SIGHASH_SINGLE && base != AL_SIGHASH_NONE)
		hash_sequences(tx, sequences);
	/* hashOutputs: "If the sighash type is neither SINGLE nor NONE, hashOutputs is
	 * the double SHA256 of the serialization of all output amount ... with
	 * scriptPubKey; If sighash type is SINGLE and the input index is smaller than the
	 * number of outputs, hashOutputs is the double SHA256 of the output amount with
	 * scriptPubKey of the same index as the input; Otherwise, hashOutputs is a
	 * uint256 of 0x0000......0000." */
	memcpy(outputs, zero, 32);
	if (base != AL_SIGHASH_SINGLE && base != AL_SIGHASH_NONE)
		hash_outputs(tx, 0, tx->n_out, outputs);
	else if (base == AL_SIGHASH_SINGLE && index < tx->n_out)
		hash_outputs(tx, index, 1, outputs);

	/* "1. nVersion ... 2. hashPrevouts 3. hashSequence 4. outpoint 5. scriptCode of
	 * the input 6. value of the output spent by this input 7. nSequence of the input
	 * 8. hashOutputs 9. nLocktime of the transaction 10. sighash type of the
	 * signature" */
	al_sink_le32(s, tx->version);
	al_sink_bytes(s, prevouts, 32);
	al_sink_bytes(s, sequences, 32);
	put_outpoint(s, in);
	al_sink_varbytes(s, script_code, script_code_len);
	al_sink_le64(s, amount.sat);
	al_sink_le32(s, in->sequence);
	al_sink_bytes(s, outputs, 32);
	al_sink_le32(s, tx->locktime);
	al_sink_le32(s, type);
}

al_err al_sighash_segwit_v0(uint8_t out[32], const al_tx *tx, size_t index,
                            const uint8_t *script_code, size_t script_code_len, al_sat amount,
                            uint32_t sighash_type)
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};

	AL_TRY(check_args(tx, index, sighash_type));
	al_sha256_init(&h);
	emit_preimage(&s, tx, index, script_code, script_code_len, amount, sighash_type);
	/* "Double SHA256 of the serialization of: ..." */
	final_sha256d(&h, out);
	return AL_OK;
}

al_err al_sighash_segwit_v0_preimage(al_wb *w, const al_tx *tx, size_t index,
                                     const uint8_t *script_code, size_t script_code_len,
                                     al_sat amount, uint32_t sighash_type)
{
	al_sink s = {.w = w, .h = NULL};

	AL_TRY(check_args(tx, index, sighash_type));
	emit_preimage(&s, tx, index, script_code, script_code_len, amount, sighash_type);
	return AL_OK;
}
