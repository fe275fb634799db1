/* Segwit v0 script interpreter: the rules of Bitcoin Core's EvalScript and
 * VerifyWitnessProgram for SigVersion::WITNESS_V0, written from BIPs 16, 62, 65, 66,
 * 112, 141, 143, 146 and 147.
 *
 * Stack elements are borrowed byte strings (al_bytes): pushes point into the script,
 * initial elements into the witness, and the few values an opcode computes (hashes,
 * numbers) into a small pool. Only opcodes above OP_16 compute values and at most 201
 * of them run, so the pool is bounded by 201 * 32 bytes. The main stack grows up from
 * the bottom of one array of 1,000 slots and the alt stack down from its top, which
 * is the combined limit consensus sets. */
#include "btc/interp.h"

#include <string.h>

#include <openssl/sha.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/cursor.h"

/* Opcodes not named in btc/script.h (values from Bitcoin Core's script.h). */
enum {
	OP_RESERVED = 0x50,
	OP_VER = 0x62,
	OP_VERIF = 0x65,
	OP_VERNOTIF = 0x66,
	OP_TOALTSTACK = 0x6b,
	OP_FROMALTSTACK = 0x6c,
	OP_2DROP = 0x6d,
	OP_2DUP = 0x6e,
	OP_3DUP = 0x6f,
	OP_2OVER = 0x70,
	OP_2ROT = 0x71,
	OP_2SWAP = 0x72,
	OP_DEPTH = 0x74,
	OP_NIP = 0x77,
	OP_OVER = 0x78,
	OP_PICK = 0x79,
	OP_ROLL = 0x7a,
	OP_ROT = 0x7b,
	OP_TUCK = 0x7d,
	OP_CAT = 0x7e,
	OP_RIGHT = 0x81,
	OP_INVERT = 0x83,
	OP_XOR = 0x86,
	OP_1ADD = 0x8b,
	OP_1SUB = 0x8c,
	OP_2MUL = 0x8d,
	OP_2DIV = 0x8e,
	OP_NEGATE = 0x8f,
	OP_ABS = 0x90,
	OP_NOT = 0x91,
	OP_0NOTEQUAL = 0x92,
	OP_SUB = 0x94,
	OP_MUL = 0x95,
	OP_RSHIFT = 0x99,
	OP_BOOLAND = 0x9a,
	OP_BOOLOR = 0x9b,
	OP_NUMEQUAL = 0x9c,
	OP_NUMEQUALVERIFY = 0x9d,
	OP_NUMNOTEQUAL = 0x9e,
	OP_LESSTHAN = 0x9f,
	OP_GREATERTHAN = 0xa0,
	OP_LESSTHANOREQUAL = 0xa1,
	OP_GREATERTHANOREQUAL = 0xa2,
	OP_MIN = 0xa3,
	OP_MAX = 0xa4,
	OP_WITHIN = 0xa5,
	OP_RIPEMD160 = 0xa6,
	OP_SHA1 = 0xa7,
	OP_HASH256 = 0xaa,
	OP_CHECKMULTISIGVERIFY = 0xaf,
	OP_NOP1 = 0xb0,
	OP_NOP4 = 0xb3,
	OP_NOP10 = 0xb9,
};

/* BIP 68 / BIP 112 sequence fields. */
#define SEQ_FINAL        0xffffffffu
#define SEQ_DISABLE_FLAG (1u << 31)
#define SEQ_TYPE_FLAG    (1u << 22)
#define SEQ_MASK         0x0000ffffu
/* BIP 65: below this nLockTime is a block height, else a timestamp. */
#define LOCKTIME_THRESHOLD 500000000

#define POOL_SIZE (AL_INTERP_MAX_OPS * 32)

typedef struct vm {
	const al_secp *ctx;
	const al_tx *tx;
	size_t index;
	al_sat amount;
	uint32_t flags;
	/* The script running and the position of the opcode being executed. */
	const uint8_t *script;
	size_t len, pc;
	int op;
	size_t codesep; /* BIP 143 scriptCode starts here */
	int n_ops;
	al_bytes *slot; /* AL_INTERP_MAX_STACK: main stack bottom up, alt stack top down */
	size_t n, n_alt;
	bool *cond; /* OP_IF conditions, at most one per counted opcode */
	size_t n_cond, n_false;
	uint8_t *pool;
	size_t pool_used;
} vm;

static const uint8_t k_empty[1];
static const uint8_t k_true[1] = {1};
/* OP_1NEGATE, OP_1 .. OP_16 as script numbers. */
static const uint8_t k_small[17] = {0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static al_bytes bytes_of(const uint8_t *p, size_t len)
{
	al_bytes b = {len ? p : k_empty, len};
	return b;
}

/* ---- stack ---------------------------------------------------------------------- */

static al_bytes *top(vm *v, size_t i)
{
	return &v->slot[v->n - i]; /* i = 1 is the top */
}

static al_err push(vm *v, al_bytes b)
{
	/* Consensus: "stack.size() + altstack.size() > MAX_STACK_SIZE" fails. Every
	 * opcode here pops before it pushes, so checking at each push is the same. */
	if (v->n + v->n_alt >= AL_INTERP_MAX_STACK)
		return AL_E_SCRIPT_STACK_SIZE;
	v->slot[v->n++] = b;
	return AL_OK;
}

static al_err push_bool(vm *v, bool b)
{
	return push(v, bytes_of(b ? k_true : k_empty, b ? 1 : 0));
}

static void pop(vm *v, size_t count)
{
	v->n -= count;
}

/* Remove the element at depth i (1 = top). */
static void erase(vm *v, size_t i)
{
	size_t at = v->n - i;

	memmove(&v->slot[at], &v->slot[at + 1], (i - 1) * sizeof(al_bytes));
	v->n--;
}

static void swap(vm *v, size_t i, size_t j)
{
	al_bytes t = *top(v, i);

	*top(v, i) = *top(v, j);
	*top(v, j) = t;
}

static al_err need(const vm *v, size_t count)
{
	return v->n < count ? AL_E_SCRIPT_STACK : AL_OK;
}

/* Copy a computed value into the pool and push it. */
static al_err push_new(vm *v, const uint8_t *p, size_t len)
{
	uint8_t *dst = v->pool + v->pool_used;

	if (len > POOL_SIZE - v->pool_used)
		return AL_E_NOMEM; /* unreachable: see the bound at the top of the file */
	memcpy(dst, p, len);
	v->pool_used += len;
	return push(v, bytes_of(dst, len));
}

/* ---- script numbers and booleans ------------------------------------------------- */

static bool cast_to_bool(al_bytes b)
{
	size_t i;

	for (i = 0; i < b.len; i++)
		if (b.p[i] != 0)
			/* Negative zero (0x80 last, zeros before) is false too. */
			return !(i == b.len - 1 && b.p[i] == 0x80);
	return false;
}

/* CScriptNum: little-endian sign-magnitude of at most `max` bytes; with MINIMALDATA
 * (BIP 62 rule 4) it must have no excess zero byte. */
static al_err num_decode(const vm *v, al_bytes b, size_t max, int64_t *out)
{
	uint64_t r = 0;
	size_t i;

	*out = 0;
	if (b.len > max)
		return AL_E_SCRIPT_NUM;
	if (b.len == 0)
		return AL_OK;
	if ((v->flags & AL_INTERP_MINIMALDATA) && (b.p[b.len - 1] & 0x7f) == 0 &&
	    (b.len == 1 || (b.p[b.len - 2] & 0x80) == 0))
		return AL_E_SCRIPT_NUM;
	for (i = 0; i < b.len; i++)
		r |= (uint64_t)b.p[i] << (8 * i);
	if (b.p[b.len - 1] & 0x80) {
		r &= ~((uint64_t)0x80 << (8 * (b.len - 1)));
		*out = -(int64_t)r;
	} else {
		*out = (int64_t)r;
	}
	return AL_OK;
}

static al_err push_num(vm *v, int64_t n)
{
	uint8_t buf[9];
	uint64_t a = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	size_t len = 0;

	while (a) {
		buf[len++] = (uint8_t)a;
		a >>= 8;
	}
	if (len && (buf[len - 1] & 0x80))
		buf[len++] = n < 0 ? 0x80 : 0;
	else if (len && n < 0)
		buf[len - 1] |= 0x80;
	if (len == 0)
		return push(v, bytes_of(k_empty, 0));
	return push_new(v, buf, len);
}

/* BIP 62 rule 3: every push uses the shortest opcode for its data. */
static bool minimal_push(uint8_t op, const uint8_t *d, size_t len)
{
	if (len == 0)
		return op == AL_OP_0;
	if (len == 1 && d[0] >= 1 && d[0] <= 16)
		return op == AL_OP_1 + d[0] - 1;
	if (len == 1 && d[0] == 0x81)
		return op == AL_OP_1NEGATE;
	if (len <= 75)
		return op == len;
	if (len <= 255)
		return op == AL_OP_PUSHDATA1;
	if (len <= 65535)
		return op == AL_OP_PUSHDATA2;
	return true;
}

/* Read the opcode at *pc and its push data, if any; false if the script ends inside
 * a push. */
static bool get_op(const uint8_t *s, size_t len, size_t *pc, uint8_t *op, const uint8_t **data,
                   size_t *dlen)
{
	size_t n, width;

	if (*pc >= len)
		return false;
	*op = s[(*pc)++];
	*data = NULL;
	*dlen = 0;
	if (*op > AL_OP_PUSHDATA4)
		return true;
	width = *op == AL_OP_PUSHDATA1   ? 1
	        : *op == AL_OP_PUSHDATA2 ? 2
	        : *op == AL_OP_PUSHDATA4 ? 4
	                                 : 0;
	if (len - *pc < width)
		return false;
	if (width == 0)
		n = *op;
	else if (width == 1)
		n = s[*pc];
	else if (width == 2)
		n = (size_t)s[*pc] | (size_t)s[*pc + 1] << 8;
	else
		n = al_read_le32(s + *pc);
	*pc += width;
	if (len - *pc < n)
		return false;
	*data = s + *pc;
	*dlen = n;
	*pc += n;
	return true;
}

/* ---- signatures ------------------------------------------------------------------ */

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
	if ((v->flags & AL_INTERP_WITNESS_PUBKEYTYPE) && !compressed)
		return AL_E_SCRIPT_WITNESS_PUBKEYTYPE;
	return AL_OK;
}

/* Does `sig` (with its sighash byte) sign this input under `pk`? Any malformed part
 * is simply a failed check here; the encoding rules were applied before. */
static bool sig_ok(const vm *v, al_bytes sig, al_bytes pk)
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
	/* BIP 143: the scriptCode is the witnessScript from just after the last executed
	 * OP_CODESEPARATOR. */
	if (al_sighash_segwit_v0(digest, v->tx, v->index, v->script + v->codesep,
	                         v->len - v->codesep, v->amount, sig.p[sig.len - 1]) != AL_OK)
		return false;
	/* Without LOW_S a high-S signature is valid by consensus: verify its twin. */
	al_ecdsa_sig_normalize(v->ctx, &low, &s);
	return al_ecdsa_verify(v->ctx, &low, digest, &key) == AL_OK;
}

static al_err op_checksig(vm *v)
{
	al_bytes sig, pk;
	bool ok;

	AL_TRY(need(v, 2));
	sig = *top(v, 2);
	pk = *top(v, 1);
	AL_TRY(check_sig_encoding(v, sig));
	AL_TRY(check_pubkey_encoding(v, pk));
	ok = sig_ok(v, sig, pk);
	/* BIP 146 NULLFAIL: a failed check must have had an empty signature. */
	if (!ok && (v->flags & AL_INTERP_NULLFAIL) && sig.len)
		return AL_E_SCRIPT_NULLFAIL;
	pop(v, 2);
	if (v->op == AL_OP_CHECKSIGVERIFY)
		return ok ? AL_OK : AL_E_SCRIPT_CHECKSIGVERIFY;
	return push_bool(v, ok);
}

/* The m-of-n check proper: signatures in order against keys in order. Stack from the
 * top: n, n keys, m, m signatures, dummy. */
static al_err multisig_match(vm *v, size_t ikey, int64_t n_keys, size_t isig, int64_t n_sigs,
                             bool *ok)
{
	al_bytes sig, pk;

	*ok = true;
	while (*ok && n_sigs > 0) {
		sig = *top(v, isig);
		pk = *top(v, ikey);
		AL_TRY(check_sig_encoding(v, sig));
		AL_TRY(check_pubkey_encoding(v, pk));
		if (sig_ok(v, sig, pk)) {
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

static al_err op_checkmultisig(vm *v)
{
	int64_t n_keys, n_sigs;
	size_t i = 1, ikey, isig, n_sigs_at;
	bool ok;

	AL_TRY(need(v, i));
	AL_TRY(num_decode(v, *top(v, i), 4, &n_keys));
	if (n_keys < 0 || n_keys > AL_INTERP_MAX_MULTISIG_KEYS)
		return AL_E_SCRIPT_PUBKEY_COUNT;
	v->n_ops += (int)n_keys;
	if (v->n_ops > AL_INTERP_MAX_OPS)
		return AL_E_SCRIPT_OP_COUNT;
	ikey = ++i;
	i += (size_t)n_keys;
	AL_TRY(need(v, i));
	AL_TRY(num_decode(v, *top(v, i), 4, &n_sigs));
	if (n_sigs < 0 || n_sigs > n_keys)
		return AL_E_SCRIPT_SIG_COUNT;
	isig = ++i;
	n_sigs_at = isig;
	i += (size_t)n_sigs;
	AL_TRY(need(v, i));
	AL_TRY(multisig_match(v, ikey, n_keys, isig, n_sigs, &ok));
	/* BIP 146 NULLFAIL: when the check fails every signature must be empty. */
	if (!ok && (v->flags & AL_INTERP_NULLFAIL))
		for (; n_sigs_at < i; n_sigs_at++)
			if (top(v, n_sigs_at)->len)
				return AL_E_SCRIPT_NULLFAIL;
	pop(v, i - 1);
	/* BIP 147: the extra element CHECKMULTISIG consumes must be empty. */
	AL_TRY(need(v, 1));
	if ((v->flags & AL_INTERP_NULLDUMMY) && top(v, 1)->len)
		return AL_E_SCRIPT_SIG_NULLDUMMY;
	pop(v, 1);
	if (v->op == OP_CHECKMULTISIGVERIFY)
		return ok ? AL_OK : AL_E_SCRIPT_CHECKMULTISIGVERIFY;
	return push_bool(v, ok);
}

/* ---- locktimes ------------------------------------------------------------------- */

/* Opcodes reserved for soft forks do nothing, unless the caller discourages them. */
static al_err op_nop(const vm *v)
{
	return (v->flags & AL_INTERP_DISCOURAGE_UPGRADABLE_NOPS) ? AL_E_SCRIPT_UPGRADABLE_NOP
	                                                         : AL_OK;
}

static al_err op_cltv(vm *v)
{
	const al_tx_in *in = &v->tx->in[v->index];
	uint32_t tx_lt = v->tx->locktime;
	int64_t lt;

	if (!(v->flags & AL_INTERP_CHECKLOCKTIMEVERIFY))
		return op_nop(v);
	AL_TRY(need(v, 1));
	/* BIP 65: a 5-byte number, so that times up to 2^39 - 1 are expressible. */
	AL_TRY(num_decode(v, *top(v, 1), 5, &lt));
	if (lt < 0)
		return AL_E_SCRIPT_NEGATIVE_LOCKTIME;
	/* Both heights or both times, not beyond the transaction's, and nLockTime must
	 * be in force (the input not final). */
	if ((tx_lt < LOCKTIME_THRESHOLD) != (lt < LOCKTIME_THRESHOLD))
		return AL_E_SCRIPT_LOCKTIME;
	if (lt > (int64_t)tx_lt || in->sequence == SEQ_FINAL)
		return AL_E_SCRIPT_LOCKTIME;
	return AL_OK;
}

static al_err op_csv(vm *v)
{
	uint32_t seq = v->tx->in[v->index].sequence, have, want;
	int64_t n;

	if (!(v->flags & AL_INTERP_CHECKSEQUENCEVERIFY))
		return op_nop(v);
	AL_TRY(need(v, 1));
	AL_TRY(num_decode(v, *top(v, 1), 5, &n));
	if (n < 0)
		return AL_E_SCRIPT_NEGATIVE_LOCKTIME;
	/* BIP 112: with the disable flag set in the operand, the opcode is a NOP. */
	if ((uint64_t)n & SEQ_DISABLE_FLAG)
		return AL_OK;
	/* BIP 68 applies only from version 2 on, and not to inputs that opted out. */
	if (v->tx->version < 2 || (seq & SEQ_DISABLE_FLAG))
		return AL_E_SCRIPT_SEQUENCE;
	have = seq & (SEQ_TYPE_FLAG | SEQ_MASK);
	want = (uint32_t)n & (SEQ_TYPE_FLAG | SEQ_MASK);
	/* Both in blocks or both in 512-second units, and not more than the input's. */
	if ((have < SEQ_TYPE_FLAG) != (want < SEQ_TYPE_FLAG) || want > have)
		return AL_E_SCRIPT_SEQUENCE;
	return AL_OK;
}

/* ---- flow control ---------------------------------------------------------------- */

static al_err op_if(vm *v, bool exec)
{
	al_bytes c;
	bool value = false;

	if (exec) {
		if (v->n < 1)
			return AL_E_SCRIPT_UNBALANCED_IF;
		c = *top(v, 1);
		/* MINIMALIF (policy for witness v0): the argument is empty or exactly 0x01. */
		if ((v->flags & AL_INTERP_MINIMALIF) && (c.len > 1 || (c.len == 1 && c.p[0] != 1)))
			return AL_E_SCRIPT_MINIMALIF;
		value = cast_to_bool(c);
		if (v->op == AL_OP_NOTIF)
			value = !value;
		pop(v, 1);
	}
	if (v->n_cond >= AL_INTERP_MAX_OPS)
		return AL_E_SCRIPT_OP_COUNT; /* unreachable: each IF counts as an operation */
	v->cond[v->n_cond++] = value;
	v->n_false += !value;
	return AL_OK;
}

static al_err op_else_endif(vm *v)
{
	bool *c;

	if (v->n_cond == 0)
		return AL_E_SCRIPT_UNBALANCED_IF;
	c = &v->cond[v->n_cond - 1];
	v->n_false -= !*c;
	if (v->op == AL_OP_ELSE) {
		*c = !*c;
		v->n_false += !*c;
	} else {
		v->n_cond--;
	}
	return AL_OK;
}

static al_err op_flow(vm *v, bool exec)
{
	switch (v->op) {
	case AL_OP_IF:
	case AL_OP_NOTIF:
		return op_if(v, exec);
	case AL_OP_ELSE:
	case AL_OP_ENDIF:
		return op_else_endif(v);
	case AL_OP_VERIFY:
		AL_TRY(need(v, 1));
		if (!cast_to_bool(*top(v, 1)))
			return AL_E_SCRIPT_VERIFY;
		pop(v, 1);
		return AL_OK;
	case AL_OP_RETURN:
		return AL_E_SCRIPT_OP_RETURN;
	case AL_OP_NOP:
		return AL_OK;
	case AL_OP_CHECKLOCKTIMEVERIFY:
		return op_cltv(v);
	case AL_OP_CHECKSEQUENCEVERIFY:
		return op_csv(v);
	default:
		if (v->op == OP_NOP1 || (v->op >= OP_NOP4 && v->op <= OP_NOP10))
			return op_nop(v);
		/* OP_VERIF and OP_VERNOTIF fail even unexecuted, as Core's do; OP_VER,
		 * OP_RESERVED*, OP_CHECKSIGADD (tapscript only) and 0xbb.. when executed. */
		return AL_E_SCRIPT_BAD_OPCODE;
	}
}

/* ---- stack operations ------------------------------------------------------------ */

static al_err op_pick_roll(vm *v)
{
	int64_t k;
	al_bytes b;

	AL_TRY(need(v, 2));
	AL_TRY(num_decode(v, *top(v, 1), 4, &k));
	pop(v, 1);
	if (k < 0 || (uint64_t)k >= v->n)
		return AL_E_SCRIPT_STACK;
	b = *top(v, (size_t)k + 1);
	if (v->op == OP_ROLL)
		erase(v, (size_t)k + 1);
	return push(v, b);
}

static al_err op_alt(vm *v)
{
	al_bytes b;

	if (v->op == OP_TOALTSTACK) {
		AL_TRY(need(v, 1));
		b = *top(v, 1);
		pop(v, 1);
		/* The slot the main stack gave up keeps the combined count in bounds. */
		v->n_alt++;
		v->slot[AL_INTERP_MAX_STACK - v->n_alt] = b;
		return AL_OK;
	}
	if (v->n_alt < 1)
		return AL_E_SCRIPT_ALTSTACK;
	b = v->slot[AL_INTERP_MAX_STACK - v->n_alt];
	v->n_alt--;
	return push(v, b);
}

static al_err op_dup_family(vm *v)
{
	switch (v->op) {
	case OP_2DUP:
		AL_TRY(need(v, 2));
		AL_TRY(push(v, *top(v, 2)));
		return push(v, *top(v, 2));
	case OP_3DUP:
		AL_TRY(need(v, 3));
		AL_TRY(push(v, *top(v, 3)));
		AL_TRY(push(v, *top(v, 3)));
		return push(v, *top(v, 3));
	case OP_2OVER:
		AL_TRY(need(v, 4));
		AL_TRY(push(v, *top(v, 4)));
		return push(v, *top(v, 4));
	case AL_OP_IFDUP:
		AL_TRY(need(v, 1));
		return cast_to_bool(*top(v, 1)) ? push(v, *top(v, 1)) : AL_OK;
	case AL_OP_DUP:
		AL_TRY(need(v, 1));
		return push(v, *top(v, 1));
	case OP_OVER:
		AL_TRY(need(v, 2));
		return push(v, *top(v, 2));
	default: /* OP_TUCK: x1 x2 -> x2 x1 x2 */
		AL_TRY(need(v, 2));
		AL_TRY(push(v, *top(v, 1)));
		swap(v, 2, 3);
		return AL_OK;
	}
}

static al_err op_stack(vm *v)
{
	al_bytes a, b;

	switch (v->op) {
	case OP_TOALTSTACK:
	case OP_FROMALTSTACK:
		return op_alt(v);
	case OP_2DROP:
		AL_TRY(need(v, 2));
		pop(v, 2);
		return AL_OK;
	case OP_2ROT:
		AL_TRY(need(v, 6));
		a = *top(v, 6);
		b = *top(v, 5);
		erase(v, 6);
		erase(v, 5);
		AL_TRY(push(v, a));
		return push(v, b);
	case OP_2SWAP:
		AL_TRY(need(v, 4));
		swap(v, 4, 2);
		swap(v, 3, 1);
		return AL_OK;
	case OP_DEPTH:
		return push_num(v, (int64_t)v->n);
	case AL_OP_DROP:
		AL_TRY(need(v, 1));
		pop(v, 1);
		return AL_OK;
	case OP_NIP:
		AL_TRY(need(v, 2));
		erase(v, 2);
		return AL_OK;
	case OP_PICK:
	case OP_ROLL:
		return op_pick_roll(v);
	case OP_ROT:
		AL_TRY(need(v, 3));
		swap(v, 3, 2);
		swap(v, 2, 1);
		return AL_OK;
	case AL_OP_SWAP:
		AL_TRY(need(v, 2));
		swap(v, 2, 1);
		return AL_OK;
	case AL_OP_SIZE:
		AL_TRY(need(v, 1));
		return push_num(v, (int64_t)top(v, 1)->len);
	default:
		return op_dup_family(v);
	}
}

static al_err op_equal(vm *v)
{
	al_bytes a, b;
	bool eq;

	AL_TRY(need(v, 2));
	a = *top(v, 2);
	b = *top(v, 1);
	eq = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
	pop(v, 2);
	if (v->op == AL_OP_EQUALVERIFY)
		return eq ? AL_OK : AL_E_SCRIPT_EQUALVERIFY;
	return push_bool(v, eq);
}

/* ---- arithmetic on 4-byte numbers ------------------------------------------------- */

static al_err op_unary(vm *v)
{
	int64_t a, r;

	AL_TRY(need(v, 1));
	AL_TRY(num_decode(v, *top(v, 1), 4, &a));
	switch (v->op) {
	case OP_1ADD:
		r = a + 1;
		break;
	case OP_1SUB:
		r = a - 1;
		break;
	case OP_NEGATE:
		r = -a;
		break;
	case OP_ABS:
		r = a < 0 ? -a : a;
		break;
	case OP_NOT:
		r = a == 0;
		break;
	default: /* OP_0NOTEQUAL */
		r = a != 0;
		break;
	}
	pop(v, 1);
	return push_num(v, r);
}

static int64_t binary_result(int op, int64_t a, int64_t b)
{
	switch (op) {
	case AL_OP_ADD:
		return a + b;
	case OP_SUB:
		return a - b;
	case OP_BOOLAND:
		return a != 0 && b != 0;
	case OP_BOOLOR:
		return a != 0 || b != 0;
	case OP_NUMEQUAL:
	case OP_NUMEQUALVERIFY:
		return a == b;
	case OP_NUMNOTEQUAL:
		return a != b;
	case OP_LESSTHAN:
		return a < b;
	case OP_GREATERTHAN:
		return a > b;
	case OP_LESSTHANOREQUAL:
		return a <= b;
	case OP_GREATERTHANOREQUAL:
		return a >= b;
	case OP_MIN:
		return a < b ? a : b;
	default: /* OP_MAX */
		return a > b ? a : b;
	}
}

static al_err op_binary(vm *v)
{
	int64_t a, b, r;

	AL_TRY(need(v, 2));
	AL_TRY(num_decode(v, *top(v, 2), 4, &a));
	AL_TRY(num_decode(v, *top(v, 1), 4, &b));
	r = binary_result(v->op, a, b);
	pop(v, 2);
	if (v->op == OP_NUMEQUALVERIFY)
		return r ? AL_OK : AL_E_SCRIPT_NUMEQUALVERIFY;
	return push_num(v, r);
}

static al_err op_within(vm *v)
{
	int64_t x, lo, hi;

	AL_TRY(need(v, 3));
	AL_TRY(num_decode(v, *top(v, 3), 4, &x));
	AL_TRY(num_decode(v, *top(v, 2), 4, &lo));
	AL_TRY(num_decode(v, *top(v, 1), 4, &hi));
	pop(v, 3);
	return push_bool(v, lo <= x && x < hi);
}

/* ---- hashes ---------------------------------------------------------------------- */

static al_err op_hash(vm *v)
{
	uint8_t h[32];
	size_t len = 32;
	al_bytes b;

	AL_TRY(need(v, 1));
	b = *top(v, 1);
	switch (v->op) {
	case OP_RIPEMD160:
		al_ripemd160(h, b.p, b.len);
		len = 20;
		break;
	case OP_SHA1:
		SHA1(b.p, b.len, h);
		len = 20;
		break;
	case AL_OP_SHA256:
		al_sha256(h, b.p, b.len);
		break;
	case AL_OP_HASH160:
		al_hash160(h, b.p, b.len);
		len = 20;
		break;
	default: /* OP_HASH256 */
		al_sha256d(h, b.p, b.len);
		break;
	}
	pop(v, 1);
	return push_new(v, h, len);
}

/* ---- the interpreter loop -------------------------------------------------------- */

static bool is_disabled(uint8_t op)
{
	/* Disabled in 2010; they fail even in an unexecuted branch. */
	return (op >= OP_CAT && op <= OP_RIGHT) || (op >= OP_INVERT && op <= OP_XOR) ||
	       op == OP_2MUL || op == OP_2DIV || (op >= OP_MUL && op <= OP_RSHIFT);
}

static al_err exec_op(vm *v, bool exec)
{
	int op = v->op;

	if (op == AL_OP_1NEGATE || (op >= AL_OP_1 && op <= AL_OP_16))
		return push(v, bytes_of(&k_small[op == AL_OP_1NEGATE ? 0 : op - AL_OP_1 + 1], 1));
	if (op >= OP_TOALTSTACK && op <= AL_OP_SIZE)
		return op_stack(v);
	if (op == AL_OP_EQUAL || op == AL_OP_EQUALVERIFY)
		return op_equal(v);
	if (op >= OP_1ADD && op <= OP_0NOTEQUAL)
		return op_unary(v);
	if (op >= AL_OP_ADD && op <= OP_MAX)
		return op_binary(v);
	if (op == OP_WITHIN)
		return op_within(v);
	if (op >= OP_RIPEMD160 && op <= OP_HASH256)
		return op_hash(v);
	if (op == AL_OP_CODESEPARATOR) {
		v->codesep = v->pc + 1;
		return AL_OK;
	}
	if (op == AL_OP_CHECKSIG || op == AL_OP_CHECKSIGVERIFY)
		return op_checksig(v);
	if (op == AL_OP_CHECKMULTISIG || op == OP_CHECKMULTISIGVERIFY)
		return op_checkmultisig(v);
	return op_flow(v, exec);
}

/* One opcode at v->pc; *next receives the position after it. */
static al_err step(vm *v, size_t *next)
{
	const uint8_t *data;
	size_t dlen;
	uint8_t op;
	bool exec = v->n_false == 0;

	*next = v->pc;
	v->op = -1;
	if (!get_op(v->script, v->len, next, &op, &data, &dlen))
		return AL_E_SCRIPT_BAD_OPCODE;
	v->op = op;
	if (dlen > AL_INTERP_MAX_ELEMENT)
		return AL_E_SCRIPT_PUSH_SIZE;
	if (op > AL_OP_16 && ++v->n_ops > AL_INTERP_MAX_OPS)
		return AL_E_SCRIPT_OP_COUNT;
	if (is_disabled(op))
		return AL_E_SCRIPT_DISABLED;
	if (exec && op <= AL_OP_PUSHDATA4) {
		if ((v->flags & AL_INTERP_MINIMALDATA) && !minimal_push(op, data, dlen))
			return AL_E_SCRIPT_MINIMALDATA;
		return push(v, bytes_of(data, dlen));
	}
	if (exec || (op >= AL_OP_IF && op <= AL_OP_ENDIF))
		return exec_op(v, exec);
	return AL_OK;
}

static al_err run(vm *v, const uint8_t *script, size_t len)
{
	size_t next;

	v->script = script;
	v->len = len;
	v->pc = 0;
	v->op = -1;
	v->codesep = 0;
	v->n_ops = 0;
	v->n_cond = v->n_false = 0;
	v->pool_used = 0;
	if (len > AL_INTERP_MAX_SCRIPT)
		return AL_E_SCRIPT_SIZE;
	while (v->pc < len) {
		AL_TRY(step(v, &next));
		v->pc = next;
	}
	v->op = -1;
	return v->n_cond ? AL_E_SCRIPT_UNBALANCED_IF : AL_OK;
}

/* ---- witness programs ------------------------------------------------------------ */

size_t al_interp_scratch_size(void)
{
	/* Each allocation may need up to 15 bytes of alignment padding. */
	return AL_INTERP_MAX_STACK * sizeof(al_bytes) + AL_INTERP_MAX_OPS * sizeof(bool) +
	       POOL_SIZE + 3 * 16;
}

static al_err vm_init(vm *v, al_arena *a, const al_secp *ctx, const al_tx *tx, size_t index,
                      al_sat amount, uint32_t flags)
{
	memset(v, 0, sizeof(*v));
	v->ctx = ctx;
	v->tx = tx;
	v->index = index;
	v->amount = amount;
	v->flags = flags;
	v->op = -1;
	AL_TRY(al_arena_alloc(a, AL_INTERP_MAX_STACK * sizeof(al_bytes), _Alignof(al_bytes),
	                      (void **)&v->slot));
	AL_TRY(
	    al_arena_alloc(a, AL_INTERP_MAX_OPS * sizeof(bool), _Alignof(bool), (void **)&v->cond));
	return al_arena_alloc(a, POOL_SIZE, 1, (void **)&v->pool);
}

/* BIP 141: run a witness script over the witness stack; it must leave exactly one
 * element, and that element must be true. */
static al_err exec_witness(vm *v, const uint8_t *script, size_t len, const al_bytes *items,
                           size_t n)
{
	size_t i;

	if (len == 0)
		script = k_empty;
	v->n = v->n_alt = 0;
	for (i = 0; i < n; i++) {
		/* "Disallow stack item size > MAX_SCRIPT_ELEMENT_SIZE in witness stack". */
		if (items[i].len > AL_INTERP_MAX_ELEMENT)
			return AL_E_SCRIPT_PUSH_SIZE;
		AL_TRY(push(v, bytes_of(items[i].p, items[i].len)));
	}
	AL_TRY(run(v, script, len));
	/* "Scripts inside witness implicitly require cleanstack behaviour". */
	if (v->n != 1)
		return AL_E_SCRIPT_CLEANSTACK;
	return cast_to_bool(*top(v, 1)) ? AL_OK : AL_E_SCRIPT_EVAL_FALSE;
}

static al_err verify_program(vm *v, int version, const uint8_t *prog, size_t prog_len, bool wrapped)
{
	const al_tx_in *in = &v->tx->in[v->index];
	const al_bytes *script;
	uint8_t code[25], h[32];
	al_wb w;

	if (version == 0 && prog_len == 32) {
		/* BIP 141 P2WSH: "the witness must consist of an input stack to feed to the
		 * script, followed by a serialized script (witnessScript)", whose SHA256
		 * must match the 32-byte witness program. */
		if (in->n_witness == 0)
			return AL_E_SCRIPT_WITNESS_EMPTY;
		script = &in->witness[in->n_witness - 1];
		al_sha256(h, script->p, script->len);
		if (memcmp(h, prog, 32) != 0)
			return AL_E_SCRIPT_WITNESS_MISMATCH;
		return exec_witness(v, script->p, script->len, in->witness, in->n_witness - 1);
	}
	if (version == 0 && prog_len == 20) {
		/* BIP 141 P2WPKH: "The witness must consist of exactly 2 items", run as
		 * DUP HASH160 <20-byte-key-hash> EQUALVERIFY CHECKSIG. */
		if (in->n_witness != 2)
			return AL_E_SCRIPT_WITNESS_MISMATCH;
		al_wb_init(&w, code, sizeof(code));
		al_script_p2wpkh_scriptcode(&w, prog);
		return exec_witness(v, code, w.len, in->witness, 2);
	}
	if (version == 0)
		return AL_E_SCRIPT_WITNESS_LENGTH;
	if (version == 1 && prog_len == 32 && !wrapped)
		return AL_E_SCRIPT_UNSUPPORTED; /* BIP 341 taproot: not validated here */
	/* BIP 141: other versions "leave it as an anyone-can-spend" for future soft forks. */
	if (v->flags & AL_INTERP_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM)
		return AL_E_SCRIPT_WITNESS_UPGRADABLE;
	return AL_OK;
}

/* Only pushes (and OP_1NEGATE, OP_RESERVED, OP_1..OP_16) in a P2SH scriptSig. */
static bool is_push_only(const uint8_t *s, size_t len)
{
	const uint8_t *data;
	size_t pc = 0, dlen;
	uint8_t op;

	while (pc < len)
		if (!get_op(s, len, &pc, &op, &data, &dlen) || op > AL_OP_16)
			return false;
	return true;
}

/* BIP 16 with a BIP 141 redeemScript: the scriptSig runs (push only), the
 * scriptPubKey HASH160 <h> EQUAL checks its top element, which must be a witness
 * program pushed as the scriptSig's only, minimal push. */
static al_err verify_p2sh(vm *v, const uint8_t hash[20])
{
	const al_bytes *sig = &v->tx->in[v->index].script_sig;
	const uint8_t *prog;
	uint8_t h[20], canon[1 + 40 + 2];
	al_bytes redeem;
	size_t prog_len;
	int version;
	al_wb w;

	if (!is_push_only(sig->p, sig->len))
		return AL_E_SCRIPT_SIG_PUSHONLY;
	v->n = v->n_alt = 0;
	AL_TRY(run(v, sig->p, sig->len));
	AL_TRY(need(v, 1));
	redeem = *top(v, 1);
	al_hash160(h, redeem.p, redeem.len);
	if (memcmp(h, hash, 20) != 0)
		return AL_E_SCRIPT_EVAL_FALSE;
	if (!al_script_is_witness_program(redeem.p, redeem.len, &version, &prog, &prog_len))
		return AL_E_SCRIPT_UNSUPPORTED; /* legacy P2SH */
	/* BIP 141: "The scriptSig must be exactly a push of the BIP16 redeemScript". */
	al_wb_init(&w, canon, sizeof(canon));
	al_script_push(&w, redeem.p, redeem.len);
	if (w.len != sig->len || memcmp(canon, sig->p, sig->len) != 0)
		return AL_E_SCRIPT_WITNESS_MALLEATED_P2SH;
	return verify_program(v, version, prog, prog_len, true);
}

static al_err verify_spent(vm *v, const uint8_t *spent, size_t spent_len)
{
	const al_tx_in *in = &v->tx->in[v->index];
	const uint8_t *prog;
	uint8_t hash[20];
	size_t prog_len;
	int version;

	if (spent_len > AL_INTERP_MAX_SCRIPT)
		return AL_E_SCRIPT_SIZE;
	if (al_script_is_witness_program(spent, spent_len, &version, &prog, &prog_len)) {
		/* BIP 141: "The scriptSig must be exactly empty or validation fails". */
		if (in->script_sig.len != 0)
			return AL_E_SCRIPT_WITNESS_MALLEATED;
		return verify_program(v, version, prog, prog_len, false);
	}
	if ((v->flags & AL_INTERP_P2SH) && al_script_is_p2sh(spent, spent_len, hash))
		return verify_p2sh(v, hash);
	return AL_E_SCRIPT_UNSUPPORTED;
}

static void report(al_interp_fail *why, const vm *v, al_err err)
{
	if (!why)
		return;
	why->err = err;
	why->opcode = err == AL_OK ? -1 : v->op;
	why->offset = err == AL_OK ? 0 : v->pc;
}

/* What an entry point runs once its machine is set up. */
typedef struct job {
	const uint8_t *script; /* the spent scriptPubKey, or the witness script */
	size_t len;
	const al_bytes *items; /* the initial stack for a witness script, else NULL */
	size_t n_items;
	bool witness_script;
} job;

/* Check the arguments, set up a machine in scratch memory, run the job, give the
 * memory back and report where it failed. */
static al_err run_job(const al_secp *ctx, const al_tx *tx, size_t index, al_sat amount,
                      uint32_t flags, al_arena *scratch, al_interp_fail *why, const job *j)
{
	size_t mark;
	al_err err;
	vm v;

	memset(&v, 0, sizeof(v));
	v.op = -1;
	if (!ctx || !tx || !scratch || (!j->script && j->len) || (!j->items && j->n_items)) {
		err = AL_E_ARG;
		goto out;
	}
	if (index >= tx->n_in) {
		err = AL_E_RANGE;
		goto out;
	}
	mark = al_arena_mark(scratch);
	err = vm_init(&v, scratch, ctx, tx, index, amount, flags);
	if (err == AL_OK) {
		const uint8_t *script = j->script ? j->script : k_empty;
		err = j->witness_script ? exec_witness(&v, script, j->len, j->items, j->n_items)
		                        : verify_spent(&v, script, j->len);
	}
	al_arena_release(scratch, mark);
out:
	report(why, &v, err);
	return err;
}

al_err al_interp_verify_input(const al_secp *ctx, const al_tx *tx, size_t index,
                              const uint8_t *spent_script, size_t spent_len, al_sat amount,
                              uint32_t flags, al_arena *scratch, al_interp_fail *why)
{
	const job j = {spent_script, spent_len, NULL, 0, false};

	return run_job(ctx, tx, index, amount, flags, scratch, why, &j);
}

al_err al_interp_exec_witness_script(const al_secp *ctx, const al_tx *tx, size_t index,
                                     const uint8_t *script, size_t len, const al_bytes *items,
                                     size_t n_items, al_sat amount, uint32_t flags,
                                     al_arena *scratch, al_interp_fail *why)
{
	const job j = {script, len, items, n_items, true};

	return run_job(ctx, tx, index, amount, flags, scratch, why, &j);
}
