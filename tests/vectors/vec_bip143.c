/* BIP 143 examples (bips/bip143-vectors.json), suite `bip143`, one vector per example.
 *
 * An example passes when:
 *  - its unsigned and signed transactions (and the swapped one of "Native P2WSH #2")
 *    parse and serialize back to the same bytes;
 *  - every input with a witness is spent as BIP 141/143 say: the witness program
 *    (from the stated scriptPubKey, through the P2SH redeemScript if any) matches the
 *    public key hash or the witnessScript, and the witnessScript runs in a small
 *    interpreter (pushes, IF/NOTIF/ELSE/ENDIF, CODESEPARATOR, DROP, VERIFY,
 *    CHECKSIG[VERIFY], CHECKMULTISIG[VERIFY]) to a single true value; each signature
 *    check takes its scriptCode from after the last executed OP_CODESEPARATOR, as
 *    BIP 143 prescribes, and verifies with al_ecdsa_verify;
 *  - every stated signing step is reproduced: the stated sigHash is the double
 *    SHA-256 of the stated preimage, some signature check of the interpreter computed
 *    exactly that digest (and that preimage, byte for byte), the same digest comes out
 *    of the unsigned transaction, and the stated signature and public key are the ones
 *    that check used.
 *
 * The two "No FindAndDelete" examples carry high-S signatures made up for the BIP
 * (low S is relay policy, BIP 146, not consensus for v0 witnesses): when
 * al_ecdsa_verify reports AL_E_SIG_HIGH_S, the normalized signature must verify.
 * "No FindAndDelete #2" states neither the spent amount nor the scriptPubKey; the
 * amount is taken from its preimage, the witness is taken as P2WSH. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"
#include "vectors.h"

#define MAX_CHECKS 32
#define MAX_STACK  64
#define MAX_COND   16
#define MAX_INPUTS 8

#define OP_CHECKMULTISIGVERIFY 0xaf

/* One signature check the interpreter performed. */
typedef struct sigcheck {
	const al_tx *tx;
	size_t index;
	const uint8_t *script_code;
	size_t script_code_len;
	al_sat amount;
	uint32_t type;
	uint8_t digest[32];
	al_bytes sig; /* with its sighash byte */
	al_bytes pubkey;
	bool ok;
} sigcheck;

typedef struct example {
	const char *name;
	const json_t *json;
	const al_tx *unsigned_tx; /* may be NULL */
	al_sat amounts[MAX_INPUTS];
	bool have_amount[MAX_INPUTS];
	uint8_t p2wpkh_code[MAX_INPUTS][25]; /* scriptCodes the checks point to */
	sigcheck checks[MAX_CHECKS];
	size_t n_checks;
	const char *why; /* first failure */
} example;

static bool fail(example *x, const char *why)
{
	if (!x->why)
		x->why = why;
	return false;
}

/* Hex with any whitespace removed (one stated signature has a space before its
 * sighash byte). */
static uint8_t *unhex_clean(const char *s, size_t *len)
{
	char buf[8192];
	size_t n = 0;

	for (; *s && n + 1 < sizeof(buf); s++)
		if (!isspace((unsigned char)*s))
			buf[n++] = *s;
	buf[n] = '\0';
	return al_t_unhex(buf, len);
}

/* "9.87654321" -> 987654321 sat. */
static bool parse_btc(const char *s, al_sat *out)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++)
		whole = whole * 10 + (uint64_t)(*s - '0');
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s) && digits < 8; s++, digits++)
			frac = frac * 10 + (uint64_t)(*s - '0');
	if (*s)
		return false;
	for (; digits < 8; digits++)
		frac *= 10;
	*out = al_sat_of(whole * 100000000ULL + frac);
	return true;
}

/* ---- transactions ---- */

/* Parse and require byte-identical reserialization. */
static bool parse_roundtrip(example *x, al_tx *tx, al_arena *a, const char *hex)
{
	static uint8_t out[8192];
	size_t len;
	uint8_t *raw = al_t_unhex(hex, &len);
	al_wb w;

	if (al_tx_parse(tx, a, raw, len) != AL_OK)
		return fail(x, "transaction does not parse");
	al_wb_init(&w, out, sizeof(out));
	al_tx_write(&w, tx, true);
	if (!al_wb_ok(&w) || w.len != len || memcmp(out, raw, len) != 0 ||
	    al_tx_len(tx, true) != len)
		return fail(x, "transaction does not serialize back to its bytes");
	return true;
}

/* ---- the interpreter ---- */

typedef struct vm {
	example *x;
	const al_tx *tx;
	size_t index;
	const uint8_t *script;
	size_t script_len;
	al_sat amount;
	size_t codesep; /* scriptCode starts here */
	al_bytes stack[MAX_STACK];
	size_t n;
} vm;

static const uint8_t small_nums[17] = {0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static bool push(vm *m, const uint8_t *p, size_t len)
{
	if (m->n == MAX_STACK)
		return fail(m->x, "stack overflow");
	m->stack[m->n].p = p;
	m->stack[m->n].len = len;
	m->n++;
	return true;
}

static bool pop(vm *m, al_bytes *out)
{
	if (m->n == 0)
		return fail(m->x, "stack underflow");
	*out = m->stack[--m->n];
	return true;
}

static bool cast_to_bool(const al_bytes *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->p[i] != 0)
			return !(i == b->len - 1 && b->p[i] == 0x80); /* negative zero */
	return false;
}

/* A small script number (at most 4 bytes). */
static bool script_num(const al_bytes *b, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (b->len > 4)
		return false;
	for (i = 0; i < b->len; i++)
		v |= (int64_t)b->p[i] << (8 * i);
	if (b->len && (b->p[b->len - 1] & 0x80)) {
		v &= ~((int64_t)0x80 << (8 * (b->len - 1)));
		v = -v;
	}
	*out = v;
	return true;
}

/* One signature against one key, digest per BIP 143 over the current scriptCode.
 * `record_failure` is false inside CHECKMULTISIG, where trying a signature against
 * a key it was not made with is normal. */
static bool check_sig(vm *m, const al_bytes *sig, const al_bytes *pk, bool record_failure)
{
	const al_secp *secp = al_t_secp();
	sigcheck *c;
	al_ecdsa_sig s, norm;
	al_pubkey key;
	al_err e;

	if (sig->len == 0)
		return false;
	if (m->x->n_checks == MAX_CHECKS)
		return fail(m->x, "too many signature checks");
	c = &m->x->checks[m->x->n_checks];
	memset(c, 0, sizeof(*c));
	c->tx = m->tx;
	c->index = m->index;
	c->script_code = m->script + m->codesep;
	c->script_code_len = m->script_len - m->codesep;
	c->amount = m->amount;
	c->type = sig->p[sig->len - 1];
	c->sig = *sig;
	c->pubkey = *pk;
	if (al_sighash_segwit_v0(c->digest, m->tx, m->index, c->script_code, c->script_code_len,
	                         c->amount, c->type) != AL_OK)
		return fail(m->x, "sighash refused");
	if (al_ecdsa_sig_parse_der(secp, &s, sig->p, sig->len - 1) != AL_OK)
		return fail(m->x, "signature is not strict DER");
	if (al_pubkey_parse(secp, &key, pk->p, pk->len) != AL_OK)
		return fail(m->x, "bad public key");
	e = al_ecdsa_verify(secp, &s, c->digest, &key);
	if (e == AL_E_SIG_HIGH_S) {
		/* Consensus accepts high S in v0 witnesses; only policy (BIP 146) does not. */
		al_ecdsa_sig_normalize(secp, &norm, &s);
		e = al_ecdsa_verify(secp, &norm, c->digest, &key);
	}
	c->ok = e == AL_OK;
	if (c->ok || record_failure)
		m->x->n_checks++;
	return c->ok;
}

static bool op_checksig(vm *m, bool verify)
{
	al_bytes sig, pk;
	bool ok;

	if (!pop(m, &pk) || !pop(m, &sig))
		return false;
	ok = check_sig(m, &sig, &pk, true);
	if (verify)
		return ok ? true : fail(m->x, "CHECKSIGVERIFY failed");
	return push(m, ok ? small_nums + 1 : NULL, ok ? 1 : 0);
}

/* As Bitcoin Core's interpreter: keys and signatures are walked from the top of the
 * stack down, each signature against the remaining keys in order. */
static bool op_checkmultisig(vm *m, bool verify)
{
	int64_t n_keys, n_sigs;
	size_t ikey, isig, i;
	bool ok = true;

	if (m->n < 1 || !script_num(&m->stack[m->n - 1], &n_keys) || n_keys < 0 ||
	    (size_t)n_keys + 2 > m->n)
		return fail(m->x, "bad CHECKMULTISIG key count");
	ikey = 2;
	i = 2 + (size_t)n_keys;
	if (!script_num(&m->stack[m->n - i], &n_sigs) || n_sigs < 0 || n_sigs > n_keys ||
	    i + (size_t)n_sigs + 1 > m->n)
		return fail(m->x, "bad CHECKMULTISIG signature count");
	isig = i + 1;
	i += (size_t)n_sigs + 1; /* the dummy element */
	while (ok && n_sigs > 0) {
		if (check_sig(m, &m->stack[m->n - isig], &m->stack[m->n - ikey], false)) {
			isig++;
			n_sigs--;
		}
		ikey++;
		n_keys--;
		if (n_sigs > n_keys)
			ok = false;
	}
	if (m->stack[m->n - i].len != 0)
		return fail(m->x, "CHECKMULTISIG dummy is not empty");
	m->n -= i;
	if (verify)
		return ok ? true : fail(m->x, "CHECKMULTISIGVERIFY failed");
	return push(m, ok ? small_nums + 1 : NULL, ok ? 1 : 0);
}

static bool read_push(al_cur *c, uint8_t op, al_bytes *out)
{
	size_t len = op;

	if (op == AL_OP_PUSHDATA1)
		len = al_cur_u8(c);
	else if (op == AL_OP_PUSHDATA2)
		len = al_cur_le16(c);
	else if (op == AL_OP_PUSHDATA4)
		len = al_cur_le32(c);
	out->len = len;
	out->p = al_cur_ptr(c, len);
	return al_cur_ok(c);
}

static bool exec_op(vm *m, al_cur *c, uint8_t op)
{
	al_bytes b;

	switch (op) {
	case AL_OP_CODESEPARATOR:
		/* BIP 143: the last executed OP_CODESEPARATOR "and any script before it are
		 * always removed". */
		m->codesep = m->script_len - al_cur_remaining(c);
		return true;
	case AL_OP_CHECKSIG:
	case AL_OP_CHECKSIGVERIFY:
		return op_checksig(m, op == AL_OP_CHECKSIGVERIFY);
	case AL_OP_CHECKMULTISIG:
	case OP_CHECKMULTISIGVERIFY:
		return op_checkmultisig(m, op != AL_OP_CHECKMULTISIG);
	case AL_OP_DROP:
		return pop(m, &b);
	case AL_OP_VERIFY:
		return pop(m, &b) && (cast_to_bool(&b) ? true : fail(m->x, "VERIFY failed"));
	case AL_OP_1NEGATE:
		return push(m, small_nums, 1);
	default:
		if (op >= AL_OP_1 && op <= AL_OP_16)
			return push(m, small_nums + (op - AL_OP_1 + 1), 1);
		return fail(m->x, "opcode outside the interpreter's subset");
	}
}

static bool run_script(vm *m)
{
	bool cond[MAX_COND];
	size_t n_cond = 0, i;
	al_cur c;
	al_bytes b;

	al_cur_init(&c, m->script, m->script_len);
	while (al_cur_remaining(&c) > 0) {
		uint8_t op = al_cur_u8(&c);
		bool exec = true;

		for (i = 0; i < n_cond; i++)
			exec = exec && cond[i];
		if (op <= AL_OP_PUSHDATA4) {
			if (!read_push(&c, op, &b))
				return fail(m->x, "truncated push");
			if (exec && !push(m, b.p, b.len))
				return false;
		} else if (op == AL_OP_IF || op == AL_OP_NOTIF) {
			bool v = false;

			if (n_cond == MAX_COND)
				return fail(m->x, "IF nesting too deep");
			if (exec) {
				if (!pop(m, &b))
					return false;
				v = cast_to_bool(&b) != (op == AL_OP_NOTIF);
			}
			cond[n_cond++] = v;
		} else if (op == AL_OP_ELSE || op == AL_OP_ENDIF) {
			if (n_cond == 0)
				return fail(m->x, "unbalanced conditional");
			if (op == AL_OP_ELSE)
				cond[n_cond - 1] = !cond[n_cond - 1];
			else
				n_cond--;
		} else if (exec && !exec_op(m, &c, op)) {
			return false;
		}
	}
	if (n_cond != 0)
		return fail(m->x, "unbalanced conditional");
	/* BIP 141: "The script must not fail, and result in exactly a single TRUE on the
	 * stack." */
	if (m->n != 1 || !cast_to_bool(&m->stack[0]))
		return fail(m->x, "script does not leave a single true value");
	return true;
}

/* ---- spending one input ---- */

/* The witness program this input spends, from the stated scriptPubKey and, for
 * P2SH, the redeemScript the scriptSig pushes. NULL when the example states none. */
static bool witness_program(example *x, const al_tx *tx, size_t i, const json_t *in,
                            const uint8_t **prog, size_t *prog_len)
{
	const json_t *spk_j = in ? json_object_get(in, "scriptPubKey") : NULL;
	const json_t *redeem_j = in ? json_object_get(in, "redeemScript") : NULL;
	const al_bytes *ss = &tx->in[i].script_sig;
	uint8_t h[20], h2[20];
	size_t len;
	const uint8_t *spk;
	int ver;

	*prog = NULL;
	if (!spk_j)
		return true;
	spk = al_t_unhex(json_string_value(spk_j), &len);
	if (al_script_is_p2sh(spk, len, h)) {
		/* BIP 141: P2SH-wrapped, the scriptSig is exactly one push of the
		 * redeemScript, itself a witness program. */
		if (ss->len < 1 || (size_t)ss->p[0] + 1 != ss->len)
			return fail(x, "P2SH scriptSig is not a single push");
		spk = ss->p + 1;
		len = ss->len - 1;
		al_hash160(h2, spk, len);
		if (memcmp(h, h2, 20) != 0)
			return fail(x, "redeemScript does not match the P2SH hash");
		if (redeem_j && (strlen(json_string_value(redeem_j)) != 2 * len ||
		                 memcmp(al_t_unhex(json_string_value(redeem_j), NULL), spk, len)))
			return fail(x, "scriptSig pushes another redeemScript than stated");
	}
	if (!al_script_is_witness_program(spk, len, &ver, prog, prog_len) || ver != 0)
		return fail(x, "witness spends a non-v0-witness output");
	return true;
}

/* Input i of tx; `in` and `amount` are what the example states for its outpoint. */
static bool spend_input(example *x, const al_tx *tx, size_t i, const json_t *in, al_sat amount)
{
	const al_tx_in *txin = &tx->in[i];
	const json_t *ws_j = in ? json_object_get(in, "witnessScript") : NULL;
	const al_bytes *ws;
	const uint8_t *prog;
	size_t prog_len, k;
	uint8_t *code, h[32];
	al_wb w;
	vm m = {.x = x, .tx = tx, .index = i, .amount = amount};

	if (!witness_program(x, tx, i, in, &prog, &prog_len))
		return false;
	if (prog && prog_len == 20) {
		/* P2WPKH: the witness is <sig> <pubkey>, the scriptCode BIP 143 fixes. */
		if (txin->n_witness != 2)
			return fail(x, "P2WPKH witness is not two items");
		al_hash160(h, txin->witness[1].p, txin->witness[1].len);
		if (memcmp(h, prog, 20) != 0)
			return fail(x, "public key does not match the P2WPKH program");
		if (i >= MAX_INPUTS)
			return fail(x, "too many inputs");
		code = x->p2wpkh_code[i];
		al_wb_init(&w, code, sizeof(x->p2wpkh_code[i]));
		al_script_p2wpkh_scriptcode(&w, prog);
		m.script = code;
		m.script_len = w.len;
		return check_sig(&m, &txin->witness[0], &txin->witness[1], true) ||
		       fail(x, "P2WPKH signature does not verify");
	}
	if (prog && prog_len != 32)
		return fail(x, "unknown v0 witness program length");
	/* P2WSH: the last item is the witnessScript, the others its initial stack. */
	ws = &txin->witness[txin->n_witness - 1];
	al_sha256(h, ws->p, ws->len);
	if (prog && memcmp(h, prog, 32) != 0)
		return fail(x, "witnessScript does not match the P2WSH program");
	if (ws_j && (strlen(json_string_value(ws_j)) != 2 * ws->len ||
	             memcmp(al_t_unhex(json_string_value(ws_j), NULL), ws->p, ws->len)))
		return fail(x, "witness carries another witnessScript than stated");
	for (k = 0; k + 1 < txin->n_witness; k++)
		if (!push(&m, txin->witness[k].p, txin->witness[k].len))
			return false;
	m.script = ws->p;
	m.script_len = ws->len;
	return run_script(&m);
}

/* The example states its inputs in the order of `ref` (the signed transaction);
 * `tx` may order them differently (the swapped transaction), so go by outpoint. */
static size_t ref_index(const al_tx *ref, const al_tx_in *in)
{
	size_t j;

	for (j = 0; j < ref->n_in; j++)
		if (memcmp(ref->in[j].txid, in->txid, 32) == 0 && ref->in[j].vout == in->vout)
			return j;
	return SIZE_MAX;
}

static bool spend_all(example *x, const al_tx *tx, const al_tx *ref)
{
	const json_t *inputs = json_object_get(x->json, "inputs");
	size_t i, j, before = x->n_checks;
	bool ok = true;

	for (i = 0; i < tx->n_in; i++) {
		if (tx->in[i].n_witness == 0)
			continue; /* a legacy input: not BIP 143's business */
		j = ref_index(ref, &tx->in[i]);
		if (j >= MAX_INPUTS || !x->have_amount[j])
			return fail(x, "no amount for a witness input");
		ok = spend_input(x, tx, i, json_array_get(inputs, j), x->amounts[j]) && ok;
	}
	for (i = before; i < x->n_checks; i++)
		if (!x->checks[i].ok)
			ok = fail(x, "a signature does not verify");
	return ok;
}

/* ---- amounts ---- */

/* Outpoint and amount of a BIP 143 preimage. */
static bool preimage_fields(const uint8_t *p, size_t len, const uint8_t **outpoint,
                            uint64_t *amount)
{
	al_cur c;
	uint64_t n;

	al_cur_init(&c, p, len);
	al_cur_skip(&c, 4 + 32 + 32);
	*outpoint = al_cur_ptr(&c, 36);
	n = al_cur_compactsize(&c);
	al_cur_skip(&c, n > len ? len : (size_t)n);
	*amount = al_cur_le64(&c);
	return al_cur_ok(&c);
}

static bool load_amounts(example *x, const al_tx *tx)
{
	const json_t *inputs = json_object_get(x->json, "inputs");
	const json_t *signing = json_object_get(x->json, "signing");
	const json_t *in, *sg;
	const uint8_t *op;
	uint64_t amount;
	size_t i, j, len;
	uint8_t *pre;

	json_array_foreach(inputs, i, in)
	{
		if (i >= MAX_INPUTS || !parse_btc(al_v_str(in, "value_btc"), &x->amounts[i]))
			return fail(x, "bad value_btc");
		x->have_amount[i] = true;
	}
	/* Where the example states no input, the preimages are the only source. */
	json_array_foreach(signing, j, sg)
	{
		pre = al_t_unhex(al_v_str(sg, "preimage"), &len);
		if (!preimage_fields(pre, len, &op, &amount))
			return fail(x, "bad preimage");
		for (i = 0; i < tx->n_in && i < MAX_INPUTS; i++) {
			if (x->have_amount[i] || memcmp(op, tx->in[i].txid, 32) != 0 ||
			    al_read_le32(op + 32) != tx->in[i].vout)
				continue;
			x->amounts[i] = al_sat_of(amount);
			x->have_amount[i] = true;
		}
	}
	return true;
}

/* ---- stated signing steps ---- */

static bool bytes_eq_hex(const al_bytes *b, const char *hex)
{
	size_t len;
	uint8_t *p = unhex_clean(hex, &len);

	return len == b->len && memcmp(p, b->p, len) == 0;
}

static bool signing_step(example *x, const json_t *sg)
{
	static uint8_t mine[8192];
	const json_t *sig_j = json_object_get(sg, "signature");
	const json_t *pk_j = json_object_get(sg, "public_key");
	size_t len, hlen, k;
	uint8_t *pre = al_t_unhex(al_v_str(sg, "preimage"), &len);
	uint8_t *want = al_t_unhex(al_v_str(sg, "sigHash"), &hlen), d[32];
	const sigcheck *c = NULL;
	al_wb w;

	al_sha256d(d, pre, len);
	if (hlen != 32 || memcmp(d, want, 32) != 0)
		return fail(x, "stated sigHash is not the hash of the stated preimage");
	for (k = 0; k < x->n_checks && !c; k++)
		if (x->checks[k].ok && memcmp(x->checks[k].digest, want, 32) == 0)
			c = &x->checks[k];
	if (!c)
		return fail(x, "no verified signature has the stated sigHash");
	al_wb_init(&w, mine, sizeof(mine));
	if (al_sighash_segwit_v0_preimage(&w, c->tx, c->index, c->script_code, c->script_code_len,
	                                  c->amount, c->type) != AL_OK ||
	    !al_wb_ok(&w) || w.len != len || memcmp(mine, pre, len) != 0)
		return fail(x, "preimage differs from the stated one");
	if (x->unsigned_tx &&
	    (al_sighash_segwit_v0(d, x->unsigned_tx, c->index, c->script_code, c->script_code_len,
	                          c->amount, c->type) != AL_OK ||
	     memcmp(d, want, 32) != 0))
		return fail(x, "unsigned transaction gives another sigHash");
	if (sig_j && !bytes_eq_hex(&c->sig, json_string_value(sig_j)))
		return fail(x, "stated signature is not the one in the witness");
	if (pk_j && !bytes_eq_hex(&c->pubkey, json_string_value(pk_j)))
		return fail(x, "stated public key is not the one checked");
	return true;
}

static bool run_example(example *x, al_arena *a)
{
	const json_t *ut = json_object_get(x->json, "unsigned_tx");
	const json_t *swapped = json_object_get(x->json, "signed_tx_swapped");
	const json_t *signing = json_object_get(x->json, "signing");
	const json_t *sg;
	al_tx utx, stx, swtx;
	size_t i;
	bool ok = true;

	if (json_is_string(ut)) {
		if (!parse_roundtrip(x, &utx, a, json_string_value(ut)))
			return false;
		x->unsigned_tx = &utx;
	}
	if (!parse_roundtrip(x, &stx, a, al_v_str(x->json, "signed_tx")))
		return false;
	if (!load_amounts(x, &stx))
		return false;
	ok = spend_all(x, &stx, &stx) && ok;
	if (json_is_string(swapped)) {
		if (!parse_roundtrip(x, &swtx, a, json_string_value(swapped)))
			return false;
		ok = spend_all(x, &swtx, &stx) && ok;
	}
	if (json_array_size(signing) == 0)
		ok = fail(x, "no signing steps");
	json_array_foreach(signing, i, sg)
	{
		ok = signing_step(x, sg) && ok;
	}
	return ok;
}

int main(void)
{
	static uint8_t mem[1 << 16];
	json_t *root = al_v_load_json("bips/bip143-vectors.json");
	const json_t *examples = json_object_get(root, "examples");
	const json_t *ex;
	al_v_suite s;
	al_arena a;
	size_t i;

	al_v_begin(&s, "bip143");
	json_array_foreach(examples, i, ex)
	{
		static example x;
		bool ok;

		memset(&x, 0, sizeof(x));
		x.name = al_v_str(ex, "name");
		x.json = ex;
		al_arena_init(&a, mem, sizeof(mem));
		ok = run_example(&x, &a);
		al_v_result(&s, ok, "%s: %s", x.name, x.why ? x.why : "?");
	}
	al_v_end(&s);
	json_decref(root);
	return al_t_finish();
}
