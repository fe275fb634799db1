/* Spend rules of the script interpreter: Bitcoin Core's VerifyScript (scriptSig,
 * scriptPubKey, BIP 16 P2SH, CLEANSTACK), VerifyWitnessProgram (BIP 141 v0, BIP 341
 * taproot key and script paths, BIP 342 tapscript) and the public entry points. */
#include <string.h>

#include "btc/interp_vm.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "crypto/hash.h"
#include "util/cursor.h"

/* BIP 341 constants. */
#define ANNEX_TAG         0x50
#define LEAF_MASK         0xfe
#define LEAF_TAPSCRIPT    0xc0
#define CONTROL_BASE      33
#define CONTROL_NODE      32
#define CONTROL_MAX_NODES 128
/* BIP 342: "sigops_budget ... 50 + the total serialized size in bytes of the
 * transaction input's witness (including the CompactSize prefix)". */
#define WEIGHT_OFFSET 50

/* What one verification works on besides the machine. */
typedef struct spend {
	const al_tx_out *spent; /* every spent output, or NULL (taproot refused) */
	al_taproot_txdata txdata;
} spend;

size_t al_interp_scratch_size(void)
{
	/* Each allocation may need up to 15 bytes of alignment padding. */
	return AL_INTERP_MAX_STACK * sizeof(al_bytes) + 2 * VM_POOL_HALF + AL_INTERP_MAX_SCRIPT +
	       3 * 16;
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
	v->first_false = VM_NO_FALSE;
	AL_TRY(al_arena_alloc(a, AL_INTERP_MAX_STACK * sizeof(al_bytes), _Alignof(al_bytes),
	                      (void **)&v->slot));
	AL_TRY(al_arena_alloc(a, 2 * VM_POOL_HALF, 1, (void **)&v->pool));
	return al_arena_alloc(a, AL_INTERP_MAX_SCRIPT, 1, (void **)&v->code);
}

static bool is_push_only(const uint8_t *s, size_t len)
{
	const uint8_t *data;
	size_t pc = 0, dlen;
	uint8_t op;

	while (pc < len)
		if (!vm_get_op(s, len, &pc, &op, &data, &dlen) || op > AL_OP_16)
			return false;
	return true;
}

/* ---- witness scripts ------------------------------------------------------------- */

/* BIP 342: "OP_SUCCESSx ... 80, 98, 126-129, 131-134, 137-138, 141-142, 149-153,
 * 187-254". */
static bool is_op_success(uint8_t op)
{
	return op == 80 || op == 98 || (op >= 126 && op <= 129) || (op >= 131 && op <= 134) ||
	       (op >= 137 && op <= 138) || (op >= 141 && op <= 142) || (op >= 149 && op <= 153) ||
	       (op >= 187 && op <= 254);
}

/* BIP 342: a tapscript that fails to decode fails; one that contains an OP_SUCCESSx
 * anywhere succeeds without being run (*done). */
static al_err scan_op_success(const vm *v, const uint8_t *s, size_t len, bool *done)
{
	const uint8_t *data;
	size_t pc = 0, dlen;
	uint8_t op;

	*done = false;
	while (pc < len) {
		if (!vm_get_op(s, len, &pc, &op, &data, &dlen))
			return AL_E_SCRIPT_BAD_OPCODE;
		if (is_op_success(op)) {
			*done = true;
			return (v->flags & AL_INTERP_DISCOURAGE_OP_SUCCESS)
			           ? AL_E_SCRIPT_UPGRADABLE_OP_SUCCESS
			           : AL_OK;
		}
	}
	return AL_OK;
}

/* BIP 141 / BIP 342: run a witness script over the witness stack; it must leave
 * exactly one element, and that element must be true. */
static al_err exec_witness(vm *v, const uint8_t *script, size_t len, const al_bytes *items,
                           size_t n)
{
	bool done;
	size_t i;

	v->pc = 0; /* a failure before execution is at no opcode */
	v->op = -1;
	if (v->sigversion == VM_TAPSCRIPT) {
		AL_TRY(scan_op_success(v, script, len, &done));
		if (done)
			return AL_OK;
		/* "the initial stack ... must not exceed 1000 elements". */
		if (n > AL_INTERP_MAX_STACK)
			return AL_E_SCRIPT_STACK_SIZE;
	}
	v->n = v->n_alt = 0;
	for (i = 0; i < n; i++) {
		/* "Disallow stack item size > MAX_SCRIPT_ELEMENT_SIZE in witness stack". */
		if (items[i].len > AL_INTERP_MAX_ELEMENT)
			return AL_E_SCRIPT_PUSH_SIZE;
		AL_TRY(vm_push(v, vm_bytes_of(items[i].p, items[i].len)));
	}
	AL_TRY(vm_run(v, script, len));
	/* "Scripts inside witness implicitly require cleanstack behaviour". */
	if (v->n != 1)
		return AL_E_SCRIPT_CLEANSTACK;
	return vm_cast_to_bool(*vm_top(v, 1)) ? AL_OK : AL_E_SCRIPT_EVAL_FALSE;
}

/* ---- taproot --------------------------------------------------------------------- */

/* BIP 341: the control block proves that the leaf is in the tree committed to by the
 * output key Q = P + hash_TapTweak(p || k) G, whose y parity is the control block's
 * low bit. */
static bool taproot_commits(const vm *v, const uint8_t *control, size_t clen, const uint8_t *q)
{
	uint8_t k[32], buf[64], tweak[32], ser[AL_PUBKEY_LEN];
	al_pubkey p;
	size_t i;

	memcpy(k, v->leaf_hash, 32);
	for (i = CONTROL_BASE; i < clen; i += CONTROL_NODE) {
		/* "If kj < ej: kj+1 = hash_TapBranch(kj || ej), else hash_TapBranch(ej || kj)". */
		bool lower = memcmp(k, control + i, 32) < 0;

		memcpy(buf + (lower ? 0 : 32), k, 32);
		memcpy(buf + (lower ? 32 : 0), control + i, 32);
		al_tagged_hash(k, "TapBranch", buf, 64);
	}
	/* "Let P = lift_x(int(p))": the point with this x and an even y. */
	ser[0] = 0x02;
	memcpy(ser + 1, control + 1, 32);
	if (al_pubkey_parse(v->ctx, &p, ser, sizeof(ser)) != AL_OK)
		return false;
	memcpy(buf, control + 1, 32);
	memcpy(buf + 32, k, 32);
	al_tagged_hash(tweak, "TapTweak", buf, 64);
	if (al_pubkey_tweak_add(v->ctx, &p, tweak) != AL_OK)
		return false;
	al_pubkey_serialize(v->ctx, ser, &p);
	return memcmp(ser + 1, q, 32) == 0 && (ser[0] & 1) == (control[0] & 1);
}

static size_t witness_size(const al_tx_in *in)
{
	size_t i, len = al_compactsize_len(in->n_witness);

	for (i = 0; i < in->n_witness; i++)
		len += al_compactsize_len(in->witness[i].len) + in->witness[i].len;
	return len;
}

/* BIP 341 script path: stack ... script control (annex already removed). */
static al_err taproot_script_path(vm *v, const al_bytes *items, size_t n, const uint8_t *q)
{
	const al_bytes *script = &items[n - 2], *control = &items[n - 1];
	uint8_t leaf_ver, prefix[1 + 9];
	al_sha256_ctx h;
	al_wb w;

	/* "the control block c ... length 33 + 32m, for a value of m that is an integer
	 * between 0 and 128, inclusive. Fail if it does not have such a length." */
	if (control->len < CONTROL_BASE || (control->len - CONTROL_BASE) % CONTROL_NODE != 0 ||
	    (control->len - CONTROL_BASE) / CONTROL_NODE > CONTROL_MAX_NODES)
		return AL_E_SCRIPT_TAPROOT_CONTROL_SIZE;
	/* "k0 = hash_TapLeaf(v || compact_size(size of s) || s)". */
	leaf_ver = control->p[0] & LEAF_MASK;
	al_wb_init(&w, prefix, sizeof(prefix));
	al_wb_u8(&w, leaf_ver);
	al_wb_compactsize(&w, script->len);
	al_tagged_hash_init(&h, "TapLeaf");
	al_sha256_update(&h, prefix, w.len);
	al_sha256_update(&h, script->p, script->len);
	al_sha256_final(&h, v->leaf_hash);
	if (!taproot_commits(v, control->p, control->len, q))
		return AL_E_SCRIPT_WITNESS_MISMATCH;
	if (leaf_ver != LEAF_TAPSCRIPT)
		/* Unknown leaf versions are anyone-can-spend, reserved for soft forks. */
		return (v->flags & AL_INTERP_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION)
		           ? AL_E_SCRIPT_UPGRADABLE_TAPVER
		           : AL_OK;
	v->sigversion = VM_TAPSCRIPT;
	v->weight_left = (int64_t)witness_size(&v->tx->in[v->index]) + WEIGHT_OFFSET;
	return exec_witness(v, script->p, script->len, items, n - 2);
}

static al_err verify_taproot(vm *v, spend *sp, const uint8_t *q)
{
	const al_tx_in *in = &v->tx->in[v->index];
	const al_bytes *items = in->witness;
	size_t n = in->n_witness;

	if (n == 0)
		return AL_E_SCRIPT_WITNESS_EMPTY;
	if (!sp->spent)
		return AL_E_SCRIPT_UNSUPPORTED; /* its signatures commit to every spent output */
	al_taproot_txdata_init(&sp->txdata, v->tx, sp->spent);
	v->txdata = &sp->txdata;
	/* "If there are at least two witness elements, and the first byte of the last
	 * element is 0x50, this last element is called annex a and is removed". */
	if (n >= 2 && items[n - 1].len > 0 && items[n - 1].p[0] == ANNEX_TAG)
		v->annex = &items[--n];
	/* "If there is exactly one element left in the witness stack, key path spending
	 * is used": a signature for the output key q itself. */
	if (n == 1)
		return vm_check_schnorr(v, items[0], q, false);
	return taproot_script_path(v, items, n, q);
}

/* ---- witness programs ------------------------------------------------------------ */

static al_err verify_program(vm *v, spend *sp, int version, const uint8_t *prog, size_t prog_len,
                             bool wrapped)
{
	const al_tx_in *in = &v->tx->in[v->index];
	const al_bytes *script;
	uint8_t code[25], h[32];
	al_wb w;

	v->sigversion = VM_WITNESS_V0;
	v->pc = 0;
	v->op = -1;
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
	/* BIP 341: "A Taproot output is a native SegWit output ... with version number 1,
	 * and a 32-byte witness program" (not inside P2SH). */
	if (version == 1 && prog_len == 32 && !wrapped && (v->flags & AL_INTERP_TAPROOT))
		return verify_taproot(v, sp, prog);
	/* BIP 141: other versions "leave it as an anyone-can-spend" for future soft forks. */
	if (v->flags & AL_INTERP_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM)
		return AL_E_SCRIPT_WITNESS_UPGRADABLE;
	return AL_OK;
}

/* ---- legacy and P2SH ------------------------------------------------------------- */

static al_err run_base(vm *v, const uint8_t *script, size_t len)
{
	v->sigversion = VM_BASE;
	AL_TRY(vm_run(v, script, len));
	if (v->n == 0 || !vm_cast_to_bool(*vm_top(v, 1)))
		return AL_E_SCRIPT_EVAL_FALSE;
	return AL_OK;
}

/* BIP 16: the scriptSig (push only) is run again, its top element is the
 * redeemScript, which runs on the rest; a witness program there is BIP 141's
 * P2SH-wrapped segwit. */
static al_err verify_p2sh(vm *v, spend *sp, bool *had_witness)
{
	const al_bytes *sig = &v->tx->in[v->index].script_sig;
	const uint8_t *prog;
	uint8_t canon[1 + 40 + 2];
	al_bytes redeem;
	size_t prog_len;
	int version;
	al_wb w;

	if (!is_push_only(sig->p, sig->len))
		return AL_E_SCRIPT_SIG_PUSHONLY;
	/* A push-only scriptSig leaves the same stack every time it runs. */
	v->n = 0;
	v->sigversion = VM_BASE;
	AL_TRY(vm_run(v, sig->p, sig->len));
	AL_TRY(vm_need(v, 1)); /* unreachable: the scriptPubKey consumed an element */
	redeem = *vm_top(v, 1);
	vm_pop(v, 1);
	AL_TRY(run_base(v, redeem.p, redeem.len));
	if (!(v->flags & AL_INTERP_WITNESS) ||
	    !al_script_is_witness_program(redeem.p, redeem.len, &version, &prog, &prog_len))
		return AL_OK;
	*had_witness = true;
	/* BIP 141: "The scriptSig must be exactly a push of the BIP16 redeemScript". */
	al_wb_init(&w, canon, sizeof(canon));
	al_script_push(&w, redeem.p, redeem.len);
	if (w.len != sig->len || memcmp(canon, sig->p, sig->len) != 0)
		return AL_E_SCRIPT_WITNESS_MALLEATED_P2SH;
	AL_TRY(verify_program(v, sp, version, prog, prog_len, true));
	v->n = 1; /* as Core's stack.resize(1), for CLEANSTACK */
	return AL_OK;
}

static al_err verify_spent(vm *v, spend *sp, const uint8_t *spk, size_t spk_len)
{
	const al_tx_in *in = &v->tx->in[v->index];
	const al_bytes *sig = &in->script_sig;
	bool had_witness = false;
	const uint8_t *prog;
	size_t prog_len;
	int version;

	if ((v->flags & AL_INTERP_SIGPUSHONLY) && !is_push_only(sig->p, sig->len))
		return AL_E_SCRIPT_SIG_PUSHONLY;
	v->n = 0;
	v->sigversion = VM_BASE;
	AL_TRY(vm_run(v, sig->p, sig->len));
	AL_TRY(run_base(v, spk, spk_len));
	if ((v->flags & AL_INTERP_WITNESS) &&
	    al_script_is_witness_program(spk, spk_len, &version, &prog, &prog_len)) {
		had_witness = true;
		/* BIP 141: "The scriptSig must be exactly empty or validation fails". */
		if (sig->len != 0)
			return AL_E_SCRIPT_WITNESS_MALLEATED;
		AL_TRY(verify_program(v, sp, version, prog, prog_len, false));
		v->n = 1; /* as Core's stack.resize(1), for CLEANSTACK */
	}
	if ((v->flags & AL_INTERP_P2SH) && al_script_is_p2sh(spk, spk_len, NULL))
		AL_TRY(verify_p2sh(v, sp, &had_witness));
	if ((v->flags & AL_INTERP_CLEANSTACK) && v->n != 1)
		return AL_E_SCRIPT_CLEANSTACK;
	/* BIP 141: "... non-witness inputs ... must have an empty witness". */
	if ((v->flags & AL_INTERP_WITNESS) && !had_witness && in->n_witness != 0)
		return AL_E_SCRIPT_WITNESS_UNEXPECTED;
	return AL_OK;
}

/* ---- entry points ---------------------------------------------------------------- */

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
	const al_tx_out *spent; /* every spent output, or NULL */
} job;

/* Check the arguments, set up a machine in scratch memory, run the job, give the
 * memory back and report where it failed. */
static al_err run_job(const al_secp *ctx, const al_tx *tx, size_t index, al_sat amount,
                      uint32_t flags, al_arena *scratch, al_interp_fail *why, const job *j)
{
	const uint8_t *script = j->script ? j->script : (const uint8_t *)"";
	spend sp;
	size_t mark;
	al_err err;
	vm v;

	memset(&v, 0, sizeof(v));
	v.op = -1;
	sp.spent = j->spent;
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
	if (err == AL_OK && j->witness_script) {
		v.sigversion = VM_WITNESS_V0;
		err = exec_witness(&v, script, j->len, j->items, j->n_items);
	} else if (err == AL_OK) {
		err = verify_spent(&v, &sp, script, j->len);
	}
	al_arena_release(scratch, mark);
out:
	report(why, &v, err);
	return err;
}

al_err al_interp_verify_tx_input(const al_secp *ctx, const al_tx *tx, size_t index,
                                 const al_tx_out *spent, uint32_t flags, al_arena *scratch,
                                 al_interp_fail *why)
{
	job j = {NULL, 0, NULL, 0, false, spent};
	al_sat none = al_sat_of(0);

	if (spent && tx && index < tx->n_in) {
		j.script = spent[index].script.p;
		j.len = spent[index].script.len;
		none = spent[index].amount;
	} else if (!spent) {
		j.len = 1; /* with a NULL script: AL_E_ARG */
	}
	return run_job(ctx, tx, index, none, flags, scratch, why, &j);
}

al_err al_interp_verify_input(const al_secp *ctx, const al_tx *tx, size_t index,
                              const uint8_t *spent_script, size_t spent_len, al_sat amount,
                              uint32_t flags, al_arena *scratch, al_interp_fail *why)
{
	const job j = {spent_script, spent_len, NULL, 0, false, NULL};

	return run_job(ctx, tx, index, amount, flags, scratch, why, &j);
}

al_err al_interp_exec_witness_script(const al_secp *ctx, const al_tx *tx, size_t index,
                                     const uint8_t *script, size_t len, const al_bytes *items,
                                     size_t n_items, al_sat amount, uint32_t flags,
                                     al_arena *scratch, al_interp_fail *why)
{
	const job j = {script, len, items, n_items, true, NULL};

	return run_job(ctx, tx, index, amount, flags, scratch, why, &j);
}
