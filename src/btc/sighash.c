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

/* ---- legacy ------------------------------------------------------------------------ */

/* Serialize a scriptCode without its OP_CODESEPARATORs, as Bitcoin Core's
 * CTransactionSignatureSerializer does: opcodes are walked while they parse, and the
 * bytes after a push that runs past the end are kept as they are. */
static void put_legacy_script_code(al_sink *s, const uint8_t *p, size_t len)
{
	size_t pc = 0, start = 0, n_sep = 0, width, n;
	uint8_t op;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		pc = start = 0;
		while (pc < len) {
			op = p[pc++];
			width = op == 0x4c ? 1 : op == 0x4d ? 2 : op == 0x4e ? 4 : 0;
			if (op <= 0x4e) {
				if (len - pc < width)
					break;
				n = width == 0   ? op
				    : width == 1 ? p[pc]
				    : width == 2 ? (size_t)p[pc] | (size_t)p[pc + 1] << 8
				                 : al_read_le32(p + pc);
				pc += width;
				if (len - pc < n)
					break;
				pc += n;
			} else if (op == 0xab) { /* OP_CODESEPARATOR */
				if (pass == 0)
					n_sep++;
				else
					al_sink_bytes(s, p + start, pc - 1 - start);
				start = pc;
			}
		}
		if (pass == 0)
			al_sink_compactsize(s, len - n_sep);
	}
	al_sink_bytes(s, p + start, len - start);
}

static void emit_legacy(al_sink *s, const al_tx *tx, size_t index, const uint8_t *script_code,
                        size_t script_code_len, uint32_t type)
{
	bool acp = (type & AL_SIGHASH_ANYONECANPAY) != 0;
	uint32_t base = type & 0x1f;
	size_t i, n_out;

	al_sink_le32(s, tx->version);
	al_sink_compactsize(s, acp ? 1 : tx->n_in);
	for (i = acp ? index : 0; i < (acp ? index + 1 : tx->n_in); i++) {
		put_outpoint(s, &tx->in[i]);
		/* Only the input being signed carries the scriptCode. */
		if (i == index)
			put_legacy_script_code(s, script_code, script_code_len);
		else
			al_sink_compactsize(s, 0);
		/* NONE and SINGLE let the other inputs update their sequence. */
		if (i != index && (base == AL_SIGHASH_NONE || base == AL_SIGHASH_SINGLE))
			al_sink_le32(s, 0);
		else
			al_sink_le32(s, tx->in[i].sequence);
	}
	n_out = base == AL_SIGHASH_NONE ? 0 : base == AL_SIGHASH_SINGLE ? index + 1 : tx->n_out;
	al_sink_compactsize(s, n_out);
	for (i = 0; i < n_out; i++) {
		if (base == AL_SIGHASH_SINGLE && i != index) {
			/* SINGLE blanks the outputs before its own: value -1, empty script. */
			al_sink_le64(s, UINT64_MAX);
			al_sink_compactsize(s, 0);
		} else {
			put_output(s, &tx->out[i]);
		}
	}
	al_sink_le32(s, tx->locktime);
	al_sink_le32(s, type);
}

al_err al_sighash_legacy(uint8_t out[32], const al_tx *tx, size_t index, const uint8_t *script_code,
                         size_t script_code_len, uint32_t sighash_type)
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};

	if (index >= tx->n_in)
		return AL_E_SIGHASH_INPUT;
	if ((sighash_type & 0x1f) == AL_SIGHASH_SINGLE && index >= tx->n_out) {
		/* The SINGLE bug: Core signs the number one rather than failing. */
		memset(out, 0, 32);
		out[0] = 1;
		return AL_OK;
	}
	al_sha256_init(&h);
	emit_legacy(&s, tx, index, script_code, script_code_len, sighash_type);
	final_sha256d(&h, out);
	return AL_OK;
}

/* ---- taproot (BIP 341 / 342) ------------------------------------------------------- */

void al_tagged_hash_init(al_sha256_ctx *h, const char *tag)
{
	uint8_t t[32];

	al_sha256(t, tag, strlen(tag));
	al_sha256_init(h);
	al_sha256_update(h, t, 32);
	al_sha256_update(h, t, 32);
}

void al_tagged_hash(uint8_t out[32], const char *tag, const uint8_t *msg, size_t len)
{
	al_sha256_ctx h;

	al_tagged_hash_init(&h, tag);
	al_sha256_update(&h, msg, len);
	al_sha256_final(&h, out);
}

void al_taproot_txdata_init(al_taproot_txdata *d, const al_tx *tx, const al_tx_out *spent)
{
	al_sha256_ctx h[5];
	al_sink s[5];
	size_t i;

	for (i = 0; i < 5; i++) {
		al_sha256_init(&h[i]);
		s[i].w = NULL;
		s[i].h = &h[i];
	}
	/* BIP 341: sha_prevouts, sha_amounts, sha_scriptpubkeys, sha_sequences and
	 * sha_outputs are single SHA256 of the serialized lists. */
	for (i = 0; i < tx->n_in; i++) {
		put_outpoint(&s[0], &tx->in[i]);
		al_sink_le64(&s[1], spent[i].amount.sat);
		al_sink_varbytes(&s[2], spent[i].script.p, spent[i].script.len);
		al_sink_le32(&s[3], tx->in[i].sequence);
	}
	for (i = 0; i < tx->n_out; i++)
		put_output(&s[4], &tx->out[i]);
	al_sha256_final(&h[0], d->prevouts);
	al_sha256_final(&h[1], d->amounts);
	al_sha256_final(&h[2], d->script_pubkeys);
	al_sha256_final(&h[3], d->sequences);
	al_sha256_final(&h[4], d->outputs);
	d->spent = spent;
}

static al_err check_taproot(const al_tx *tx, size_t index, uint8_t type)
{
	uint8_t base = type & 0x7f;

	/* BIP 341: "hash_type ... 0x00, 0x01, 0x02, 0x03, 0x81, 0x82, or 0x83". */
	if (type != AL_SIGHASH_DEFAULT && (base < AL_SIGHASH_ALL || base > AL_SIGHASH_SINGLE))
		return AL_E_SIGHASH_TYPE;
	if (index >= tx->n_in)
		return AL_E_SIGHASH_INPUT;
	/* "If hash_type & 3 equals SIGHASH_SINGLE and the input index is out of range"
	 * of the outputs, the signature is invalid. */
	if ((type & 3) == AL_SIGHASH_SINGLE && index >= tx->n_out)
		return AL_E_SIGHASH_INPUT;
	return AL_OK;
}

static void emit_taproot(al_sink *s, const al_taproot_txdata *d, const al_tx *tx, size_t index,
                         const al_taproot_sigmsg *m)
{
	uint8_t type = m->hash_type, base = type & 3, h[32];
	bool acp = (type & AL_SIGHASH_ANYONECANPAY) != 0;
	const al_tx_in *in = &tx->in[index];
	al_sha256_ctx hc;
	al_sink hs = {.w = NULL, .h = &hc};
	uint8_t b;

	/* "SigMsg ... is the concatenation of": the epoch 0x00 comes first (hash_TapSighash
	 * of 0x00 || SigMsg), then "hash_type (1)", "nVersion (4)", "nLockTime (4)". */
	b = 0;
	al_sink_bytes(s, &b, 1);
	al_sink_bytes(s, &type, 1);
	al_sink_le32(s, tx->version);
	al_sink_le32(s, tx->locktime);
	/* "If the hash_type & 0x80 does not equal SIGHASH_ANYONECANPAY": sha_prevouts,
	 * sha_amounts, sha_scriptpubkeys, sha_sequences. */
	if (!acp) {
		al_sink_bytes(s, d->prevouts, 32);
		al_sink_bytes(s, d->amounts, 32);
		al_sink_bytes(s, d->script_pubkeys, 32);
		al_sink_bytes(s, d->sequences, 32);
	}
	/* "If hash_type & 3 does not equal SIGHASH_NONE or SIGHASH_SINGLE": sha_outputs. */
	if (base != AL_SIGHASH_NONE && base != AL_SIGHASH_SINGLE)
		al_sink_bytes(s, d->outputs, 32);
	/* "spend_type (1): equal to (ext_flag * 2) + annex_present". */
	b = (uint8_t)((m->leaf_hash ? 2 : 0) + (m->annex ? 1 : 0));
	al_sink_bytes(s, &b, 1);
	if (acp) {
		/* "outpoint (36) ... amount (8) ... scriptPubKey (35) ... nSequence (4)". */
		put_outpoint(s, in);
		put_output(s, &d->spent[index]);
		al_sink_le32(s, in->sequence);
	} else {
		al_sink_le32(s, (uint32_t)index);
	}
	if (m->annex) {
		/* "sha_annex (32): the SHA256 of (compact_size(size of annex) || annex)". */
		al_sha256_init(&hc);
		al_sink_varbytes(&hs, m->annex->p, m->annex->len);
		al_sha256_final(&hc, h);
		al_sink_bytes(s, h, 32);
	}
	if (base == AL_SIGHASH_SINGLE) {
		/* "sha_single_output (32): the SHA256 of the corresponding output". */
		al_sha256_init(&hc);
		put_output(&hs, &tx->out[index]);
		al_sha256_final(&hc, h);
		al_sink_bytes(s, h, 32);
	}
	if (m->leaf_hash) {
		/* BIP 342: "tapleaf_hash (32) ... key_version (1) ... codesep_pos (4)". */
		al_sink_bytes(s, m->leaf_hash, 32);
		b = 0;
		al_sink_bytes(s, &b, 1);
		al_sink_le32(s, m->codesep_pos);
	}
}

al_err al_sighash_taproot_msg(al_wb *w, const al_taproot_txdata *d, const al_tx *tx, size_t index,
                              const al_taproot_sigmsg *m)
{
	al_sink s = {.w = w, .h = NULL};

	AL_TRY(check_taproot(tx, index, m->hash_type));
	emit_taproot(&s, d, tx, index, m);
	return AL_OK;
}

al_err al_sighash_taproot(uint8_t out[32], const al_taproot_txdata *d, const al_tx *tx,
                          size_t index, const al_taproot_sigmsg *m)
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};

	AL_TRY(check_taproot(tx, index, m->hash_type));
	al_tagged_hash_init(&h, "TapSighash");
	emit_taproot(&s, d, tx, index, m);
	al_sha256_final(&h, out);
	return AL_OK;
}
