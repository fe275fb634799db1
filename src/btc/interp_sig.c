/* Signature opcodes of the script interpreter: ECDSA CHECKSIG and CHECKMULTISIG for
 * legacy scripts (Bitcoin Core's SigVersion::BASE, with FindAndDelete) and segwit v0
 * (BIP 143), and the BIP 340 Schnorr CHECKSIG / CHECKSIGADD of tapscript (BIP 342). */
#include <string.h>

#include "btc/interp_vm.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "util/cursor.h"

/* ---- the legacy scriptCode ------------------------------------------------------- */

/* Copy the running script from the last executed OP_CODESEPARATOR on into v->code;
 * returns its length. */
static size_t prepare_code(vm *v)
{
	size_t len = v->len - v->codesep;

	memcpy(v->code, v->script + v->codesep, len);
	return len;
}

/* Bitcoin Core's FindAndDelete(scriptCode, CScript() << sig): remove every copy of
 * the push of `sig` (by its length: direct, PUSHDATA1/2/4, never OP_n) that starts at
 * an opcode boundary. With CONST_SCRIPTCODE a removal is an error. */
static al_err find_and_delete(vm *v, size_t *len, al_bytes sig)
{
	uint8_t pat[5 + AL_INTERP_MAX_ELEMENT];
	const uint8_t *data;
	size_t plen = 0, rd = 0, wr = 0, next, dlen, found = 0;
	uint8_t op;

	if (sig.len > AL_INTERP_MAX_ELEMENT)
		return AL_OK; /* unreachable: stack elements are at most 520 bytes */
	if (sig.len < AL_OP_PUSHDATA1) {
		pat[plen++] = (uint8_t)sig.len;
	} else if (sig.len <= 0xff) {
		pat[plen++] = AL_OP_PUSHDATA1;
		pat[plen++] = (uint8_t)sig.len;
	} else {
		pat[plen++] = AL_OP_PUSHDATA2;
		pat[plen++] = (uint8_t)sig.len;
		pat[plen++] = (uint8_t)(sig.len >> 8);
	}
	memcpy(pat + plen, sig.p, sig.len);
	plen += sig.len;
	/* Walk the opcodes; at each boundary skip as many copies as start there. */
	for (;;) {
		while (*len - rd >= plen && memcmp(v->code + rd, pat, plen) == 0) {
			rd += plen;
			found++;
		}
		next = rd;
		if (!vm_get_op(v->code, *len, &next, &op, &data, &dlen)) {
			memmove(v->code + wr, v->code + rd, *len - rd);
			wr += *len - rd;
			break;
		}
		memmove(v->code + wr, v->code + rd, next - rd);
		wr += next - rd;
		rd = next;
	}
	*len = wr;
	if (found && (v->flags & AL_INTERP_CONST_SCRIPTCODE))
		return AL_E_SCRIPT_SIG_FINDANDDELETE;
	return AL_OK;
}

/* ---- BIP 340 / 342 --------------------------------------------------------------- */

al_err vm_check_schnorr(vm *v, al_bytes sig, const uint8_t key32[32], bool script_path)
{
	al_taproot_sigmsg m = {AL_SIGHASH_DEFAULT, v->annex, NULL, v->codesep_pos};
	uint8_t digest[32];
	al_xonly key;

	/* BIP 341: a 64-byte signature uses SIGHASH_DEFAULT; a 65-byte one names its
	 * type in the last byte, which must not be 0x00. */
	if (sig.len == 65) {
		m.hash_type = sig.p[64];
		if (m.hash_type == AL_SIGHASH_DEFAULT)
			return AL_E_SCRIPT_SCHNORR_SIG_HASHTYPE;
	} else if (sig.len != 64) {
		return AL_E_SCRIPT_SCHNORR_SIG_SIZE;
	}
	if (script_path)
		m.leaf_hash = v->leaf_hash;
	if (!v->txdata)
		return AL_E_SCRIPT_UNSUPPORTED; /* unreachable: refused before execution */
	if (al_sighash_taproot(digest, v->txdata, v->tx, v->index, &m) != AL_OK)
		return AL_E_SCRIPT_SCHNORR_SIG_HASHTYPE;
	if (al_xonly_parse(v->ctx, &key, key32) != AL_OK ||
	    al_schnorr_verify(v->ctx, sig.p, digest, 32, &key) != AL_OK)
		return AL_E_SCRIPT_SCHNORR_SIG;
	return AL_OK;
}

/* BIP 342 signature check shared by CHECKSIG(VERIFY) and CHECKSIGADD: *ok is whether
 * the signature was non-empty (a non-empty invalid one fails the script). */
static al_err tapscript_sig(vm *v, al_bytes sig, al_bytes pk, bool *ok)
{
	/* "If the signature is not the empty vector, the sigops_budget is decremented by
	 * 50. If the sigops_budget becomes negative, script execution fails." */
	if (sig.len) {
		v->weight_left -= 50;
		if (v->weight_left < 0)
			return AL_E_SCRIPT_TAP_WEIGHT;
	}
	/* "If the public key size is zero, the script MUST fail and terminate". */
	if (pk.len == 0)
		return AL_E_SCRIPT_TAP_EMPTY_PUBKEY;
	if (pk.len == 32) {
		if (sig.len)
			AL_TRY(vm_check_schnorr(v, sig, pk.p, true));
	} else if (v->flags & AL_INTERP_DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
		/* Unknown key types succeed, reserved for soft forks. */
		return AL_E_SCRIPT_UPGRADABLE_KEYTYPE;
	}
	*ok = sig.len != 0;
	return AL_OK;
}

static al_err op_checksig_tapscript(vm *v)
{
	bool ok = false;

	AL_TRY(vm_need(v, 2));
	AL_TRY(tapscript_sig(v, *vm_top(v, 2), *vm_top(v, 1), &ok));
	vm_pop(v, 2);
	if (v->op == AL_OP_CHECKSIGVERIFY)
		return ok ? AL_OK : AL_E_SCRIPT_CHECKSIGVERIFY;
	return vm_push_bool(v, ok);
}

al_err vm_op_checksigadd(vm *v)
{
	bool ok = false;
	int64_t n;

	/* BIP 342: sig n pubkey -> n + 1 when the signature is valid, n when empty. */
	AL_TRY(vm_need(v, 3));
	AL_TRY(vm_num_decode(v, *vm_top(v, 2), 4, &n));
	AL_TRY(tapscript_sig(v, *vm_top(v, 3), *vm_top(v, 1), &ok));
	vm_pop(v, 3);
	return vm_push_num(v, n + (ok ? 1 : 0));
}

/* ---- ECDSA ----------------------------------------------------------------------- */

/* BIP 66: the strict DER encoding rules, on the signature with its sighash byte. */
static bool is_valid_sig_encoding(const uint8_t *sig, size_t len)
{
	size_t len_r, len_s;

	/* Format: 0x30 [total-length] 0x02 [R-length] [R] 0x02 [S-length] [S] [sighash] */
	if (len < 9 || len > 73)
		return false;
	if (sig[0] != 0x30 || sig[1] != len - 3)
		return false;
	len_r = sig[3];
	if (5 + len_r >= len)
		return false;
	len_s = sig[5 + len_r];
	if (len_r + len_s + 7 != len)
		return false;
	/* R: an integer, non-empty, not negative, no excess leading zero. */
	if (sig[2] != 0x02 || len_r == 0 || (sig[4] & 0x80))
		return false;
	if (len_r > 1 && sig[4] == 0x00 && !(sig[5] & 0x80))
		return false;
	/* S: the same. */
	if (sig[len_r + 4] != 0x02 || len_s == 0 || (sig[len_r + 6] & 0x80))
		return false;
	if (len_s > 1 && sig[len_r + 6] == 0x00 && !(sig[len_r + 7] & 0x80))
		return false;
	return true;
}

/* Bitcoin Core's CheckSignatureEncoding. An empty signature is a valid way to fail. */
static al_err check_sig_encoding(const vm *v, al_bytes sig)
{
	al_ecdsa_sig s, low;
	uint8_t base;

	if (sig.len == 0)
		return AL_OK;
	if (!is_valid_sig_encoding(sig.p, sig.len))
		return AL_E_SCRIPT_SIG_DER;
	if (v->flags & AL_INTERP_LOW_S) {
		/* BIP 146: S must be at most half the curve order. */
		if (al_ecdsa_sig_parse_der(v->ctx, &s, sig.p, sig.len - 1) != AL_OK ||
		    al_ecdsa_sig_normalize(v->ctx, &low, &s))
			return AL_E_SCRIPT_SIG_HIGH_S;
	}
	base = sig.p[sig.len - 1] & (uint8_t)~AL_SIGHASH_ANYONECANPAY;
	if ((v->flags & AL_INTERP_STRICTENC) && (base < AL_SIGHASH_ALL || base > AL_SIGHASH_SINGLE))
		return AL_E_SCRIPT_SIG_HASHTYPE;
	return AL_OK;
}

static al_err check_pubkey_encoding(const vm *v, al_bytes pk)
{
	bool compressed = pk.len == 33 && (pk.p[0] == 0x02 || pk.p[0] == 0x03);
	bool uncompressed = pk.len == 65 && pk.p[0] == 0x04;

	if ((v->flags & AL_INTERP_STRICTENC) && !compressed && !uncompressed)
		return AL_E_SCRIPT_PUBKEYTYPE;
	/* BIP 143: "Only compressed public keys are accepted in P2WPKH and P2WSH" (policy). */
	if (v->sigversion == VM_WITNESS_V0 && (v->flags & AL_INTERP_WITNESS_PUBKEYTYPE) &&
	    !compressed)
		return AL_E_SCRIPT_WITNESS_PUBKEYTYPE;
	return AL_OK;
}

/* Does `sig` (with its sighash byte) sign this input under `pk`? Any malformed part
 * is simply a failed check here; the encoding rules were applied before. */
static bool sig_ok(const vm *v, al_bytes sig, al_bytes pk, size_t code_len)
{
	al_ecdsa_sig s, low;
	al_pubkey key;
	uint8_t digest[32];

	if (sig.len == 0)
		return false;
	if (al_pubkey_parse(v->ctx, &key, pk.p, pk.len) != AL_OK)
		return false;
	if (al_ecdsa_sig_parse_der(v->ctx, &s, sig.p, sig.len - 1) != AL_OK)
		return false;
	if (v->sigversion == VM_BASE) {
		/* The legacy scriptCode: from the last executed OP_CODESEPARATOR, with the
		 * signatures deleted (code_len bytes prepared in v->code). */
		if (al_sighash_legacy(digest, v->tx, v->index, v->code, code_len,
		                      sig.p[sig.len - 1]) != AL_OK)
			return false;
	} else if (al_sighash_segwit_v0(digest, v->tx, v->index, v->script + v->codesep,
	                                v->len - v->codesep, v->amount,
	                                sig.p[sig.len - 1]) != AL_OK) {
		/* BIP 143: the scriptCode is the witnessScript from just after the last
		 * executed OP_CODESEPARATOR. */
		return false;
	}
	/* Without LOW_S a high-S signature is valid by consensus: verify its twin. */
	al_ecdsa_sig_normalize(v->ctx, &low, &s);
	return al_ecdsa_verify(v->ctx, &low, digest, &key) == AL_OK;
}

al_err vm_op_checksig(vm *v)
{
	size_t code_len = 0;
	al_bytes sig, pk;
	bool ok;

	if (v->sigversion == VM_TAPSCRIPT)
		return op_checksig_tapscript(v);
	AL_TRY(vm_need(v, 2));
	sig = *vm_top(v, 2);
	pk = *vm_top(v, 1);
	if (v->sigversion == VM_BASE) {
		code_len = prepare_code(v);
		AL_TRY(find_and_delete(v, &code_len, sig));
	}
	AL_TRY(check_sig_encoding(v, sig));
	AL_TRY(check_pubkey_encoding(v, pk));
	ok = sig_ok(v, sig, pk, code_len);
	/* BIP 146 NULLFAIL: a failed check must have had an empty signature. */
	if (!ok && (v->flags & AL_INTERP_NULLFAIL) && sig.len)
		return AL_E_SCRIPT_NULLFAIL;
	vm_pop(v, 2);
	if (v->op == AL_OP_CHECKSIGVERIFY)
		return ok ? AL_OK : AL_E_SCRIPT_CHECKSIGVERIFY;
	return vm_push_bool(v, ok);
}

/* The m-of-n check proper: signatures in order against keys in order. Stack from the
 * top: n, n keys, m, m signatures, dummy. */
static al_err multisig_match(vm *v, size_t ikey, int64_t n_keys, size_t isig, int64_t n_sigs,
                             size_t code_len, bool *ok)
{
	al_bytes sig, pk;

	*ok = true;
	while (*ok && n_sigs > 0) {
		sig = *vm_top(v, isig);
		pk = *vm_top(v, ikey);
		AL_TRY(check_sig_encoding(v, sig));
		AL_TRY(check_pubkey_encoding(v, pk));
		if (sig_ok(v, sig, pk, code_len)) {
			isig++;
			n_sigs--;
		}
		ikey++;
		n_keys--;
		/* More signatures left than keys: no way to succeed. */
		if (n_sigs > n_keys)
			*ok = false;
	}
	return AL_OK;
}

al_err vm_op_checkmultisig(vm *v)
{
	int64_t n_keys, n_sigs;
	size_t i = 1, ikey, isig, n_sigs_at, code_len = 0, k;
	bool ok;

	AL_TRY(vm_need(v, i));
	AL_TRY(vm_num_decode(v, *vm_top(v, i), 4, &n_keys));
	if (n_keys < 0 || n_keys > AL_INTERP_MAX_MULTISIG_KEYS)
		return AL_E_SCRIPT_PUBKEY_COUNT;
	v->n_ops += (int)n_keys;
	if (v->n_ops > AL_INTERP_MAX_OPS)
		return AL_E_SCRIPT_OP_COUNT;
	ikey = ++i;
	i += (size_t)n_keys;
	AL_TRY(vm_need(v, i));
	AL_TRY(vm_num_decode(v, *vm_top(v, i), 4, &n_sigs));
	if (n_sigs < 0 || n_sigs > n_keys)
		return AL_E_SCRIPT_SIG_COUNT;
	isig = ++i;
	n_sigs_at = isig;
	i += (size_t)n_sigs;
	AL_TRY(vm_need(v, i));
	if (v->sigversion == VM_BASE) {
		/* Legacy: every signature is deleted from the scriptCode first. */
		code_len = prepare_code(v);
		for (k = 0; k < (size_t)n_sigs; k++)
			AL_TRY(find_and_delete(v, &code_len, *vm_top(v, isig + k)));
	}
	AL_TRY(multisig_match(v, ikey, n_keys, isig, n_sigs, code_len, &ok));
	/* BIP 146 NULLFAIL: when the check fails every signature must be empty. */
	if (!ok && (v->flags & AL_INTERP_NULLFAIL))
		for (; n_sigs_at < i; n_sigs_at++)
			if (vm_top(v, n_sigs_at)->len)
				return AL_E_SCRIPT_NULLFAIL;
	vm_pop(v, i - 1);
	/* BIP 147: the extra element CHECKMULTISIG consumes must be empty. */
	AL_TRY(vm_need(v, 1));
	if ((v->flags & AL_INTERP_NULLDUMMY) && vm_top(v, 1)->len)
		return AL_E_SCRIPT_SIG_NULLDUMMY;
	vm_pop(v, 1);
	if (v->op == OP_CHECKMULTISIGVERIFY)
		return ok ? AL_OK : AL_E_SCRIPT_CHECKMULTISIGVERIFY;
	return vm_push_bool(v, ok);
}
