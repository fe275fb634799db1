/* Bitcoin transactions: BIP 144 serialization, txid/wtxid, BIP 141 weight.
 *
 * The parser accepts exactly the encodings that serialize back to the same bytes:
 * canonical CompactSize only, flag 0x01 only, and the witness form only when some
 * input has a witness. Every count is checked against what the remaining input could
 * hold before anything is taken from the arena, so a few hostile bytes cannot ask for
 * megabytes of arena. */
#include "btc/tx.h"

#include <string.h>

#include "btc/sink.h"
#include "crypto/hash.h"
#include "util/hex.h"

/* The smallest encodings: an input is outpoint (36) + empty scriptSig (1) +
 * nSequence (4); an output is amount (8) + empty script (1); a witness item is its
 * length byte. */
#define TXIN_MIN_LEN         41
#define TXOUT_MIN_LEN        9
#define WITNESS_ITEM_MIN_LEN 1

al_err al_bytes_dup(al_bytes *out, al_arena *a, const uint8_t *src, size_t len)
{
	uint8_t *p;

	AL_TRY(al_arena_alloc(a, len ? len : 1, 1, (void **)&p));
	if (len)
		memcpy(p, src, len);
	out->p = p;
	out->len = len;
	return AL_OK;
}

/* ---- parsing ---- */

/* A count that the caller bounds by `max` (else AL_E_TX_COUNT) and that must fit in
 * what is left, each element taking at least `min_len` bytes (else the input is
 * truncated: the count promises more than there is). */
static size_t read_count(al_cur *c, size_t max, size_t min_len)
{
	uint64_t n = al_cur_compactsize(c);

	if (!al_cur_ok(c))
		return 0;
	if (n > max) {
		al_cur_fail(c, AL_E_TX_COUNT);
		return 0;
	}
	if (n > al_cur_remaining(c) / min_len) {
		al_cur_fail(c, AL_E_TRUNCATED);
		return 0;
	}
	return (size_t)n;
}

/* A CompactSize-prefixed byte string, borrowed from the input. */
static void read_varbytes(al_cur *c, al_bytes *out)
{
	uint64_t n = al_cur_compactsize(c);

	out->p = NULL;
	out->len = 0;
	if (!al_cur_ok(c))
		return;
	if (n > al_cur_remaining(c)) {
		al_cur_fail(c, AL_E_TRUNCATED);
		return;
	}
	out->len = (size_t)n;
	out->p = al_cur_ptr(c, out->len);
}

/* Allocate `n` elements; a failure is recorded in the cursor like any other. */
static void *cur_alloc(al_cur *c, al_arena *a, size_t n, size_t size, size_t align)
{
	void *p = NULL;
	al_err e;

	if (!al_cur_ok(c) || n == 0)
		return NULL;
	e = al_arena_alloc(a, n * size, align, &p);
	if (e != AL_OK)
		al_cur_fail(c, e);
	return p;
}

static void read_inputs(al_cur *c, al_arena *a, al_tx *tx)
{
	size_t i;

	tx->n_in = read_count(c, AL_TX_MAX_INPUTS, TXIN_MIN_LEN);
	tx->in = cur_alloc(c, a, tx->n_in, sizeof(al_tx_in), _Alignof(al_tx_in));
	if (!tx->in) {
		tx->n_in = 0;
		return;
	}
	tx->cap_in = tx->n_in;
	for (i = 0; i < tx->n_in && al_cur_ok(c); i++) {
		al_tx_in *in = &tx->in[i];

		al_cur_bytes(c, in->txid, sizeof(in->txid));
		in->vout = al_cur_le32(c);
		read_varbytes(c, &in->script_sig);
		in->sequence = al_cur_le32(c);
	}
}

static void read_outputs(al_cur *c, al_arena *a, al_tx *tx)
{
	size_t i;

	tx->n_out = read_count(c, AL_TX_MAX_OUTPUTS, TXOUT_MIN_LEN);
	tx->out = cur_alloc(c, a, tx->n_out, sizeof(al_tx_out), _Alignof(al_tx_out));
	if (!tx->out) {
		tx->n_out = 0;
		return;
	}
	tx->cap_out = tx->n_out;
	for (i = 0; i < tx->n_out && al_cur_ok(c); i++) {
		al_tx_out *out = &tx->out[i];

		out->amount = al_sat_of(al_cur_le64(c));
		/* No output can carry more than all the money there will ever be. */
		if (!al_sat_is_valid_money(out->amount))
			al_cur_fail(c, AL_E_TX_AMOUNT);
		read_varbytes(c, &out->script);
	}
}

static void read_witness(al_cur *c, al_arena *a, al_tx_in *in)
{
	size_t i;

	in->n_witness = read_count(c, AL_TX_MAX_WITNESSES, WITNESS_ITEM_MIN_LEN);
	in->witness = cur_alloc(c, a, in->n_witness, sizeof(al_bytes), _Alignof(al_bytes));
	if (!in->witness) {
		in->n_witness = 0;
		return;
	}
	for (i = 0; i < in->n_witness && al_cur_ok(c); i++)
		read_varbytes(c, &in->witness[i]);
}

static void read_tx(al_cur *c, al_arena *a, al_tx *tx)
{
	bool segwit = false;
	size_t i;

	tx->version = al_cur_le32(c);
	/* BIP 144: "marker: Must be zero", "flag: Must be nonzero"; a legacy transaction
	 * cannot start its inputs with a zero count, so a zero here is the marker. Only
	 * flag 0x01 (script witnesses) is defined. */
	if (al_cur_remaining(c) > 0 && c->p[0] == 0x00) {
		al_cur_skip(c, 1);
		if (al_cur_u8(c) != 0x01)
			al_cur_fail(c, AL_E_TX_SEGWIT_FLAG);
		segwit = true;
	}
	read_inputs(c, a, tx);
	read_outputs(c, a, tx);
	if (segwit) {
		for (i = 0; i < tx->n_in && al_cur_ok(c); i++)
			read_witness(c, a, &tx->in[i]);
		/* BIP 144: "If the witness is empty, the old serialization format should be
		 * used." (Bitcoin Core: "Superfluous witness record".) */
		if (al_cur_ok(c) && !al_tx_has_witness(tx))
			al_cur_fail(c, AL_E_TX_EMPTY_WITNESS);
	}
	tx->locktime = al_cur_le32(c);
}

al_err al_tx_parse(al_tx *tx, al_arena *a, const uint8_t *raw, size_t len)
{
	size_t mark = al_arena_mark(a);
	al_err e;
	al_cur c;

	memset(tx, 0, sizeof(*tx));
	if (len > AL_TX_MAX_SIZE)
		return AL_E_TOO_LARGE;
	al_cur_init(&c, raw, len);
	read_tx(&c, a, tx);
	e = al_cur_done(&c);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		memset(tx, 0, sizeof(*tx));
	}
	return e;
}

/* ---- building ---- */

al_err al_tx_init(al_tx *tx, al_arena *a, uint32_t version, uint32_t locktime, size_t max_in,
                  size_t max_out)
{
	size_t mark = al_arena_mark(a);
	void *in = NULL, *out = NULL;
	al_err e;

	memset(tx, 0, sizeof(*tx));
	if (max_in > AL_TX_MAX_INPUTS || max_out > AL_TX_MAX_OUTPUTS)
		return AL_E_RANGE;
	e = al_arena_alloc(a, max_in * sizeof(al_tx_in), _Alignof(al_tx_in), &in);
	if (e == AL_OK)
		e = al_arena_alloc(a, max_out * sizeof(al_tx_out), _Alignof(al_tx_out), &out);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		return e;
	}
	tx->version = version;
	tx->locktime = locktime;
	tx->in = in;
	tx->out = out;
	tx->cap_in = max_in;
	tx->cap_out = max_out;
	return AL_OK;
}

al_err al_tx_add_input(al_tx *tx, const uint8_t txid[32], uint32_t vout, uint32_t sequence)
{
	al_tx_in *in;

	if (tx->n_in >= tx->cap_in)
		return AL_E_RANGE;
	in = &tx->in[tx->n_in++];
	memset(in, 0, sizeof(*in));
	memcpy(in->txid, txid, sizeof(in->txid));
	in->vout = vout;
	in->sequence = sequence;
	return AL_OK;
}

al_err al_tx_add_output(al_tx *tx, al_sat amount, const uint8_t *script, size_t script_len)
{
	al_tx_out *out;

	if (tx->n_out >= tx->cap_out)
		return AL_E_RANGE;
	if (!al_sat_is_valid_money(amount))
		return AL_E_TX_AMOUNT;
	out = &tx->out[tx->n_out++];
	out->amount = amount;
	out->script.p = script;
	out->script.len = script_len;
	return AL_OK;
}

al_err al_tx_set_witness(al_tx *tx, al_arena *a, size_t i, const al_bytes *items, size_t n)
{
	void *w = NULL;

	if (i >= tx->n_in || n > AL_TX_MAX_WITNESSES)
		return AL_E_RANGE;
	if (n > 0) {
		AL_TRY(al_arena_alloc(a, n * sizeof(al_bytes), _Alignof(al_bytes), &w));
		memcpy(w, items, n * sizeof(al_bytes));
	}
	tx->in[i].witness = w;
	tx->in[i].n_witness = n;
	return AL_OK;
}

/* ---- serialization ---- */

bool al_tx_has_witness(const al_tx *tx)
{
	size_t i;

	for (i = 0; i < tx->n_in; i++)
		if (tx->in[i].n_witness > 0)
			return true;
	return false;
}

static void emit_tx(al_sink *s, const al_tx *tx, bool with_witness)
{
	/* BIP 144: "If the witness is empty, the old serialization format should be
	 * used." */
	bool segwit = with_witness && al_tx_has_witness(tx);
	static const uint8_t marker_flag[2] = {0x00, 0x01};
	size_t i, j;

	al_sink_le32(s, tx->version);
	if (segwit)
		al_sink_bytes(s, marker_flag, sizeof(marker_flag));
	al_sink_compactsize(s, tx->n_in);
	for (i = 0; i < tx->n_in; i++) {
		al_sink_bytes(s, tx->in[i].txid, sizeof(tx->in[i].txid));
		al_sink_le32(s, tx->in[i].vout);
		al_sink_varbytes(s, tx->in[i].script_sig.p, tx->in[i].script_sig.len);
		al_sink_le32(s, tx->in[i].sequence);
	}
	al_sink_compactsize(s, tx->n_out);
	for (i = 0; i < tx->n_out; i++) {
		al_sink_le64(s, tx->out[i].amount.sat);
		al_sink_varbytes(s, tx->out[i].script.p, tx->out[i].script.len);
	}
	for (i = 0; segwit && i < tx->n_in; i++) {
		al_sink_compactsize(s, tx->in[i].n_witness);
		for (j = 0; j < tx->in[i].n_witness; j++)
			al_sink_varbytes(s, tx->in[i].witness[j].p, tx->in[i].witness[j].len);
	}
	al_sink_le32(s, tx->locktime);
}

void al_tx_write(al_wb *w, const al_tx *tx, bool with_witness)
{
	al_sink s = {.w = w, .h = NULL};

	emit_tx(&s, tx, with_witness);
}

size_t al_tx_len(const al_tx *tx, bool with_witness)
{
	al_wb w;

	/* A dry run counts the bytes without writing them. */
	al_wb_init(&w, NULL, 0);
	al_tx_write(&w, tx, with_witness);
	return w.len;
}

size_t al_tx_weight(const al_tx *tx)
{
	/* BIP 141: "Transaction weight is defined as Base transaction size * 3 + Total
	 * transaction size". */
	return al_tx_len(tx, false) * 3 + al_tx_len(tx, true);
}

size_t al_tx_vsize(const al_tx *tx)
{
	/* BIP 141: "Virtual transaction size is defined as Transaction weight / 4
	 * (rounded up to the next integer)." */
	return (al_tx_weight(tx) + 3) / 4;
}

static void tx_hash(const al_tx *tx, bool with_witness, uint8_t out[32])
{
	al_sha256_ctx h;
	al_sink s = {.w = NULL, .h = &h};
	uint8_t first[32];

	al_sha256_init(&h);
	emit_tx(&s, tx, with_witness);
	al_sha256_final(&h, first);
	al_sha256(out, first, sizeof(first));
}

void al_tx_txid(const al_tx *tx, uint8_t out[32])
{
	/* BIP 144: "Transaction hashes used in the transaction merkle tree and txin
	 * outpoints are always computed using the old non-witness serialization." */
	tx_hash(tx, false, out);
}

void al_tx_wtxid(const al_tx *tx, uint8_t out[32])
{
	/* BIP 144: "transactions with an empty witness always use the old
	 * serialization, and therefore, they have witness hash equal to normal hash." */
	tx_hash(tx, true, out);
}

/* ---- txid display and totals ---- */

void al_txid_to_hex(char out[65], const uint8_t txid[32])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	/* Displayed txids are the hash read as a little-endian number. */
	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[txid[31 - i] >> 4];
		out[2 * i + 1] = digits[txid[31 - i] & 0xf];
	}
	out[64] = '\0';
}

al_err al_txid_from_hex(uint8_t txid[32], const char *hex)
{
	uint8_t be[32];
	size_t i;

	AL_TRY(al_hex_decode_exact(be, sizeof(be), hex));
	for (i = 0; i < 32; i++)
		txid[i] = be[31 - i];
	return AL_OK;
}

al_err al_tx_output_total(const al_tx *tx, al_sat *out)
{
	al_sat total = al_sat_of(0);
	size_t i;

	for (i = 0; i < tx->n_out; i++) {
		if (!al_sat_is_valid_money(tx->out[i].amount))
			return AL_E_TX_AMOUNT;
		if (!al_sat_add(&total, total, tx->out[i].amount))
			return AL_E_OVERFLOW;
		if (!al_sat_is_valid_money(total))
			return AL_E_TX_AMOUNT;
	}
	*out = total;
	return AL_OK;
}
