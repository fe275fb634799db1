/* Script interpreter engine: the rules of Bitcoin Core's EvalScript for legacy
 * scripts, segwit v0 witness scripts and tapscripts, written from BIPs 16, 62, 65, 66,
 * 112, 141, 143, 146, 147 and 342. Signature opcodes are in interp_sig.c, the spend
 * rules (P2SH, witness programs, taproot) in interp_spend.c.
 *
 * Stack elements are borrowed byte strings (al_bytes): pushes point into the script,
 * initial elements into the witness, and the few values an opcode computes (hashes,
 * numbers) into a pool that is compacted when full (interp_vm.h). The main stack
 * grows up from the bottom of one array of 1,000 slots and the alt stack down from
 * its top, which is the combined limit consensus sets. */
#include "btc/interp_vm.h"

#include <string.h>

#include <openssl/sha.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/cursor.h"

/* BIP 68 / BIP 112 sequence fields. */
#define SEQ_FINAL        0xffffffffu
#define SEQ_DISABLE_FLAG (1u << 31)
#define SEQ_TYPE_FLAG    (1u << 22)
#define SEQ_MASK         0x0000ffffu
/* BIP 65: below this nLockTime is a block height, else a timestamp. */
#define LOCKTIME_THRESHOLD 500000000

static const uint8_t k_empty[1];
static const uint8_t k_true[1] = {1};
/* OP_1NEGATE, OP_1 .. OP_16 as script numbers. */
static const uint8_t k_small[17] = {0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

al_bytes vm_bytes_of(const uint8_t *p, size_t len)
{
	al_bytes b = {len ? p : k_empty, len};
	return b;
}

/* ---- stack ---------------------------------------------------------------------- */

al_bytes *vm_top(vm *v, size_t i)
{
	return &v->slot[v->n - i]; /* i = 1 is the top */
}

al_err vm_push(vm *v, al_bytes b)
{
	/* Consensus: "stack.size() + altstack.size() > MAX_STACK_SIZE" fails. Every
	 * opcode here pops before it pushes, so checking at each push is the same. */
	if (v->n + v->n_alt >= AL_INTERP_MAX_STACK)
		return AL_E_SCRIPT_STACK_SIZE;
	v->slot[v->n++] = b;
	return AL_OK;
}

al_err vm_push_bool(vm *v, bool b)
{
	return vm_push(v, vm_bytes_of(b ? k_true : k_empty, b ? 1 : 0));
}

void vm_pop(vm *v, size_t count)
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
	al_bytes t = *vm_top(v, i);

	*vm_top(v, i) = *vm_top(v, j);
	*vm_top(v, j) = t;
}

al_err vm_need(const vm *v, size_t count)
{
	return v->n < count ? AL_E_SCRIPT_STACK : AL_OK;
}

/* Copy the computed values alive on either stack into the other half of the pool. */
static void compact(vm *v)
{
	uint8_t *from = v->pool + v->pool_half, *to = v->pool + (VM_POOL_HALF - v->pool_half);
	size_t i, used = 0;
	al_bytes *b;

	for (i = 0; i < AL_INTERP_MAX_STACK; i++) {
		if (i >= v->n && i < AL_INTERP_MAX_STACK - v->n_alt)
			continue;
		b = &v->slot[i];
		/* Integer compares: the element may point anywhere (script, witness). */
		if ((uintptr_t)b->p < (uintptr_t)from ||
		    (uintptr_t)b->p >= (uintptr_t)from + VM_POOL_HALF)
			continue;
		memcpy(to + used, b->p, b->len);
		b->p = to + used;
		used += b->len;
	}
	v->pool_half = VM_POOL_HALF - v->pool_half;
	v->pool_used = used;
}

/* Copy a computed value (at most VM_VALUE_MAX bytes) into the pool and push it. */
static al_err push_new(vm *v, const uint8_t *p, size_t len)
{
	uint8_t *dst;

	if (len > VM_POOL_HALF - v->pool_used)
		compact(v);
	/* At most AL_INTERP_MAX_STACK values of VM_VALUE_MAX bytes survive a copy. */
	dst = v->pool + v->pool_half + v->pool_used;
	memcpy(dst, p, len);
	v->pool_used += len;
	return vm_push(v, vm_bytes_of(dst, len));
}

/* ---- script numbers and booleans ------------------------------------------------- */

bool vm_cast_to_bool(al_bytes b)
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
al_err vm_num_decode(const vm *v, al_bytes b, size_t max, int64_t *out)
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

al_err vm_push_num(vm *v, int64_t n)
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
		return vm_push(v, vm_bytes_of(k_empty, 0));
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
bool vm_get_op(const uint8_t *s, size_t len, size_t *pc, uint8_t *op, const uint8_t **data,
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
	AL_TRY(vm_need(v, 1));
	/* BIP 65: a 5-byte number, so that times up to 2^39 - 1 are expressible. */
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 5, &lt));
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
	AL_TRY(vm_need(v, 1));
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 5, &n));
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
		c = *vm_top(v, 1);
		/* The argument must be empty or exactly 0x01: BIP 342 makes it consensus in
		 * tapscript, MINIMALIF is the policy for witness v0. */
		if (v->sigversion == VM_TAPSCRIPT && (c.len > 1 || (c.len == 1 && c.p[0] != 1)))
			return AL_E_SCRIPT_TAP_MINIMALIF;
		if (v->sigversion == VM_WITNESS_V0 && (v->flags & AL_INTERP_MINIMALIF) &&
		    (c.len > 1 || (c.len == 1 && c.p[0] != 1)))
			return AL_E_SCRIPT_MINIMALIF;
		value = vm_cast_to_bool(c);
		if (v->op == AL_OP_NOTIF)
			value = !value;
		vm_pop(v, 1);
	}
	if (!value && v->first_false == VM_NO_FALSE)
		v->first_false = v->n_cond;
	v->n_cond++;
	return AL_OK;
}

static al_err op_else_endif(vm *v)
{
	size_t last;

	if (v->n_cond == 0)
		return AL_E_SCRIPT_UNBALANCED_IF;
	last = v->n_cond - 1;
	if (v->op == AL_OP_ENDIF) {
		v->n_cond--;
		if (v->first_false == last)
			v->first_false = VM_NO_FALSE;
	} else if (v->first_false == VM_NO_FALSE) {
		v->first_false = last; /* ELSE of a true branch */
	} else if (v->first_false == last) {
		v->first_false = VM_NO_FALSE; /* ELSE of the innermost false branch */
	}
	/* Under an outer false branch ELSE changes nothing that matters. */
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
		AL_TRY(vm_need(v, 1));
		if (!vm_cast_to_bool(*vm_top(v, 1)))
			return AL_E_SCRIPT_VERIFY;
		vm_pop(v, 1);
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

	AL_TRY(vm_need(v, 2));
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 4, &k));
	vm_pop(v, 1);
	if (k < 0 || (uint64_t)k >= v->n)
		return AL_E_SCRIPT_STACK;
	b = *vm_top(v, (size_t)k + 1);
	if (v->op == OP_ROLL)
		erase(v, (size_t)k + 1);
	return vm_push(v, b);
}

static al_err op_alt(vm *v)
{
	al_bytes b;

	if (v->op == OP_TOALTSTACK) {
		AL_TRY(vm_need(v, 1));
		b = *vm_top(v, 1);
		vm_pop(v, 1);
		/* The slot the main stack gave up keeps the combined count in bounds. */
		v->n_alt++;
		v->slot[AL_INTERP_MAX_STACK - v->n_alt] = b;
		return AL_OK;
	}
	if (v->n_alt < 1)
		return AL_E_SCRIPT_ALTSTACK;
	b = v->slot[AL_INTERP_MAX_STACK - v->n_alt];
	v->n_alt--;
	return vm_push(v, b);
}

static al_err op_dup_family(vm *v)
{
	switch (v->op) {
	case OP_2DUP:
		AL_TRY(vm_need(v, 2));
		AL_TRY(vm_push(v, *vm_top(v, 2)));
		return vm_push(v, *vm_top(v, 2));
	case OP_3DUP:
		AL_TRY(vm_need(v, 3));
		AL_TRY(vm_push(v, *vm_top(v, 3)));
		AL_TRY(vm_push(v, *vm_top(v, 3)));
		return vm_push(v, *vm_top(v, 3));
	case OP_2OVER:
		AL_TRY(vm_need(v, 4));
		AL_TRY(vm_push(v, *vm_top(v, 4)));
		return vm_push(v, *vm_top(v, 4));
	case AL_OP_IFDUP:
		AL_TRY(vm_need(v, 1));
		return vm_cast_to_bool(*vm_top(v, 1)) ? vm_push(v, *vm_top(v, 1)) : AL_OK;
	case AL_OP_DUP:
		AL_TRY(vm_need(v, 1));
		return vm_push(v, *vm_top(v, 1));
	case OP_OVER:
		AL_TRY(vm_need(v, 2));
		return vm_push(v, *vm_top(v, 2));
	default: /* OP_TUCK: x1 x2 -> x2 x1 x2 */
		AL_TRY(vm_need(v, 2));
		AL_TRY(vm_push(v, *vm_top(v, 1)));
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
		AL_TRY(vm_need(v, 2));
		vm_pop(v, 2);
		return AL_OK;
	case OP_2ROT:
		AL_TRY(vm_need(v, 6));
		a = *vm_top(v, 6);
		b = *vm_top(v, 5);
		erase(v, 6);
		erase(v, 5);
		AL_TRY(vm_push(v, a));
		return vm_push(v, b);
	case OP_2SWAP:
		AL_TRY(vm_need(v, 4));
		swap(v, 4, 2);
		swap(v, 3, 1);
		return AL_OK;
	case OP_DEPTH:
		return vm_push_num(v, (int64_t)v->n);
	case AL_OP_DROP:
		AL_TRY(vm_need(v, 1));
		vm_pop(v, 1);
		return AL_OK;
	case OP_NIP:
		AL_TRY(vm_need(v, 2));
		erase(v, 2);
		return AL_OK;
	case OP_PICK:
	case OP_ROLL:
		return op_pick_roll(v);
	case OP_ROT:
		AL_TRY(vm_need(v, 3));
		swap(v, 3, 2);
		swap(v, 2, 1);
		return AL_OK;
	case AL_OP_SWAP:
		AL_TRY(vm_need(v, 2));
		swap(v, 2, 1);
		return AL_OK;
	case AL_OP_SIZE:
		AL_TRY(vm_need(v, 1));
		return vm_push_num(v, (int64_t)vm_top(v, 1)->len);
	default:
		return op_dup_family(v);
	}
}

static al_err op_equal(vm *v)
{
	al_bytes a, b;
	bool eq;

	AL_TRY(vm_need(v, 2));
	a = *vm_top(v, 2);
	b = *vm_top(v, 1);
	eq = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
	vm_pop(v, 2);
	if (v->op == AL_OP_EQUALVERIFY)
		return eq ? AL_OK : AL_E_SCRIPT_EQUALVERIFY;
	return vm_push_bool(v, eq);
}

/* ---- arithmetic on 4-byte numbers ------------------------------------------------- */

static al_err op_unary(vm *v)
{
	int64_t a, r;

	AL_TRY(vm_need(v, 1));
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 4, &a));
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
	vm_pop(v, 1);
	return vm_push_num(v, r);
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

	AL_TRY(vm_need(v, 2));
	AL_TRY(vm_num_decode(v, *vm_top(v, 2), 4, &a));
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 4, &b));
	r = binary_result(v->op, a, b);
	vm_pop(v, 2);
	if (v->op == OP_NUMEQUALVERIFY)
		return r ? AL_OK : AL_E_SCRIPT_NUMEQUALVERIFY;
	return vm_push_num(v, r);
}

static al_err op_within(vm *v)
{
	int64_t x, lo, hi;

	AL_TRY(vm_need(v, 3));
	AL_TRY(vm_num_decode(v, *vm_top(v, 3), 4, &x));
	AL_TRY(vm_num_decode(v, *vm_top(v, 2), 4, &lo));
	AL_TRY(vm_num_decode(v, *vm_top(v, 1), 4, &hi));
	vm_pop(v, 3);
	return vm_push_bool(v, lo <= x && x < hi);
}

/* ---- hashes ---------------------------------------------------------------------- */

static al_err op_hash(vm *v)
{
	uint8_t h[32];
	size_t len = 32;
	al_bytes b;

	AL_TRY(vm_need(v, 1));
	b = *vm_top(v, 1);
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
	vm_pop(v, 1);
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
		return vm_push(
		    v, vm_bytes_of(&k_small[op == AL_OP_1NEGATE ? 0 : op - AL_OP_1 + 1], 1));
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
		v->codesep_pos = v->op_pos;
		return AL_OK;
	}
	if (op == AL_OP_CHECKSIG || op == AL_OP_CHECKSIGVERIFY)
		return vm_op_checksig(v);
	if (op == AL_OP_CHECKMULTISIG || op == OP_CHECKMULTISIGVERIFY)
		return v->sigversion == VM_TAPSCRIPT ? AL_E_SCRIPT_TAP_MULTISIG
		                                     : vm_op_checkmultisig(v);
	if (op == OP_CHECKSIGADD && v->sigversion == VM_TAPSCRIPT)
		return vm_op_checksigadd(v);
	return op_flow(v, exec);
}

/* One opcode at v->pc; *next receives the position after it. */
static al_err step(vm *v, size_t *next)
{
	const uint8_t *data;
	size_t dlen;
	uint8_t op;
	bool exec = v->first_false == VM_NO_FALSE;

	*next = v->pc;
	v->op = -1;
	if (!vm_get_op(v->script, v->len, next, &op, &data, &dlen))
		return AL_E_SCRIPT_BAD_OPCODE;
	v->op = op;
	if (dlen > AL_INTERP_MAX_ELEMENT)
		return AL_E_SCRIPT_PUSH_SIZE;
	/* BIP 342: tapscripts have no operation limit (the signature budget replaces it). */
	if (v->sigversion != VM_TAPSCRIPT && op > AL_OP_16 && ++v->n_ops > AL_INTERP_MAX_OPS)
		return AL_E_SCRIPT_OP_COUNT;
	if (is_disabled(op))
		return AL_E_SCRIPT_DISABLED;
	if (op == AL_OP_CODESEPARATOR && v->sigversion == VM_BASE &&
	    (v->flags & AL_INTERP_CONST_SCRIPTCODE))
		return AL_E_SCRIPT_OP_CODESEPARATOR;
	if (exec && op <= AL_OP_PUSHDATA4) {
		if ((v->flags & AL_INTERP_MINIMALDATA) && !minimal_push(op, data, dlen))
			return AL_E_SCRIPT_MINIMALDATA;
		return vm_push(v, vm_bytes_of(data, dlen));
	}
	if (exec || (op >= AL_OP_IF && op <= AL_OP_ENDIF))
		return exec_op(v, exec);
	return AL_OK;
}

al_err vm_run(vm *v, const uint8_t *script, size_t len)
{
	size_t next;

	v->script = len ? script : k_empty;
	v->len = len;
	v->pc = 0;
	v->op = -1;
	v->codesep = 0;
	v->op_pos = 0;
	v->codesep_pos = 0xffffffffu;
	v->n_ops = 0;
	v->n_cond = 0;
	v->first_false = VM_NO_FALSE;
	v->n_alt = 0; /* each script starts with an empty alt stack */
	if (v->sigversion != VM_TAPSCRIPT && len > AL_INTERP_MAX_SCRIPT)
		return AL_E_SCRIPT_SIZE;
	while (v->pc < len) {
		AL_TRY(step(v, &next));
		v->pc = next;
		v->op_pos++;
	}
	v->op = -1;
	return v->n_cond ? AL_E_SCRIPT_UNBALANCED_IF : AL_OK;
}
