/* Block headers, proof of work, merkle trees, witness commitments (see block.h). */
#include "chain/block.h"

#include <string.h>

#include "btc/script.h"
#include "crypto/hash.h"
#include "util/hex.h"

/* ---- header ---------------------------------------------------------------------- */

void al_block_header_read(al_cur *c, al_block_header *h)
{
	h->version = al_cur_le32(c);
	al_cur_bytes(c, h->prev_hash, 32);
	al_cur_bytes(c, h->merkle_root, 32);
	h->time = al_cur_le32(c);
	h->bits = al_cur_le32(c);
	h->nonce = al_cur_le32(c);
}

al_err al_block_header_parse(al_block_header *h, const uint8_t *raw, size_t len)
{
	al_cur c;

	if (!h || (!raw && len))
		return AL_E_ARG;
	al_cur_init(&c, raw, len);
	al_block_header_read(&c, h);
	return al_cur_done(&c);
}

void al_block_header_write(uint8_t out[AL_BLOCK_HEADER_LEN], const al_block_header *h)
{
	al_write_le32(out, h->version);
	memcpy(out + 4, h->prev_hash, 32);
	memcpy(out + 36, h->merkle_root, 32);
	al_write_le32(out + 68, h->time);
	al_write_le32(out + 72, h->bits);
	al_write_le32(out + 76, h->nonce);
}

void al_block_header_hash(uint8_t out[32], const al_block_header *h)
{
	uint8_t raw[AL_BLOCK_HEADER_LEN];

	al_block_header_write(raw, h);
	al_sha256d(out, raw, sizeof(raw));
}

/* ---- 256-bit arithmetic ---------------------------------------------------------- */

void al_u256_from_le(al_u256 *out, const uint8_t in[32])
{
	for (int i = 0; i < 8; i++)
		out->w[i] = al_read_le32(in + 4 * i);
}

void al_u256_to_be(uint8_t out[32], const al_u256 *a)
{
	for (int i = 0; i < 8; i++)
		al_write_be32(out + 4 * (7 - i), a->w[i]);
}

int al_u256_cmp(const al_u256 *a, const al_u256 *b)
{
	for (int i = 7; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

bool al_u256_add(al_u256 *out, const al_u256 *a, const al_u256 *b)
{
	al_u256 r;
	uint64_t carry = 0;

	for (int i = 0; i < 8; i++) {
		carry += (uint64_t)a->w[i] + b->w[i];
		r.w[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry)
		return false;
	*out = r;
	return true;
}

static bool u256_is_zero(const al_u256 *a)
{
	uint32_t acc = 0;

	for (int i = 0; i < 8; i++)
		acc |= a->w[i];
	return acc == 0;
}

static void u256_shl1(al_u256 *a)
{
	for (int i = 7; i > 0; i--)
		a->w[i] = (a->w[i] << 1) | (a->w[i - 1] >> 31);
	a->w[0] <<= 1;
}

static void u256_sub(al_u256 *a, const al_u256 *b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 8; i++) {
		uint64_t d = (uint64_t)a->w[i] - b->w[i] - borrow;

		a->w[i] = (uint32_t)d;
		borrow = (d >> 32) & 1;
	}
}

/* Bit count: position of the highest set bit plus one. */
static unsigned u256_bits(const al_u256 *a)
{
	for (int i = 7; i >= 0; i--) {
		if (a->w[i]) {
			unsigned n = 32;

			while (!(a->w[i] >> (n - 1)))
				n--;
			return 32 * (unsigned)i + n;
		}
	}
	return 0;
}

/* q = n / d by shift and subtract (d != 0). */
static void u256_div(al_u256 *q, const al_u256 *n, const al_u256 *d)
{
	al_u256 r = {{0}};

	memset(q, 0, sizeof(*q));
	for (int bit = 255; bit >= 0; bit--) {
		u256_shl1(&r);
		r.w[0] |= (n->w[bit / 32] >> (bit % 32)) & 1;
		u256_shl1(q);
		if (al_u256_cmp(&r, d) >= 0) {
			u256_sub(&r, d);
			q->w[0] |= 1;
		}
	}
}

/* a << bits or a >> bits, for 0 <= bits < 256. */
static void u256_shift(al_u256 *a, unsigned bits, bool left)
{
	al_u256 r = {{0}};
	unsigned limbs = bits / 32, sh = bits % 32;

	for (int i = 0; i < 8; i++) {
		int src = left ? i - (int)limbs : i + (int)limbs;
		uint64_t v;

		if (src < 0 || src > 7)
			continue;
		if (left) {
			v = (uint64_t)a->w[src] << sh;
			r.w[i] |= (uint32_t)v;
			if (i + 1 < 8)
				r.w[i + 1] |= (uint32_t)(v >> 32);
		} else {
			v = ((uint64_t)a->w[src] << 32) >> sh;
			r.w[i] |= (uint32_t)(v >> 32);
			if (i > 0)
				r.w[i - 1] |= (uint32_t)v;
		}
	}
	*a = r;
}

/* ---- compact targets and proof of work ------------------------------------------- */

al_err al_bits_to_target(al_u256 *target, uint32_t bits)
{
	unsigned size = bits >> 24;
	uint32_t word = bits & 0x007fffff;

	memset(target, 0, sizeof(*target));
	/* Core's arith_uint256::SetCompact: the sign bit makes a nonzero mantissa
	 * negative, and an exponent pushing the mantissa past 256 bits overflows. */
	if (word && (bits & 0x00800000))
		return AL_E_CHAIN_BITS;
	if (word && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)))
		return AL_E_CHAIN_BITS;
	if (size <= 3) {
		target->w[0] = word >> (8 * (3 - size));
	} else {
		target->w[0] = word;
		u256_shift(target, 8 * (size - 3), true);
	}
	return u256_is_zero(target) ? AL_E_CHAIN_BITS : AL_OK;
}

uint32_t al_target_to_bits(const al_u256 *target)
{
	unsigned size = (u256_bits(target) + 7) / 8;
	uint32_t compact;
	al_u256 t = *target;

	if (size <= 3) {
		compact = t.w[0] << (8 * (3 - size));
	} else {
		u256_shift(&t, 8 * (size - 3), false);
		compact = t.w[0];
	}
	/* The mantissa's top bit is the sign: move one byte into the exponent instead. */
	if (compact & 0x00800000) {
		compact >>= 8;
		size++;
	}
	return compact | ((uint32_t)size << 24);
}

void al_pow_limit(al_u256 *out, al_net net)
{
	memset(out, 0, sizeof(*out));
	if (net == AL_NET_REGTEST) {
		/* Core's regtest powLimit: 7fffff0000...00. */
		out->w[7] = 0x7fffff00;
		return;
	}
	/* Mainnet and testnet: 00000000ffff...ff (the 0x1d00ffff target rounds below). */
	for (int i = 0; i < 7; i++)
		out->w[i] = 0xffffffff;
}

al_err al_pow_check(const uint8_t hash[32], uint32_t bits, const al_u256 *limit)
{
	al_u256 target, h;

	AL_TRY(al_bits_to_target(&target, bits));
	if (al_u256_cmp(&target, limit) > 0)
		return AL_E_CHAIN_BITS;
	al_u256_from_le(&h, hash);
	return al_u256_cmp(&h, &target) > 0 ? AL_E_CHAIN_POW : AL_OK;
}

al_err al_block_header_check_pow(const al_block_header *h, al_net net)
{
	uint8_t hash[32];
	al_u256 limit;

	al_block_header_hash(hash, h);
	al_pow_limit(&limit, net);
	return al_pow_check(hash, h->bits, &limit);
}

void al_block_work(al_u256 *work, uint32_t bits)
{
	al_u256 target, inv, one = {{1}}, d;

	memset(work, 0, sizeof(*work));
	if (al_bits_to_target(&target, bits) != AL_OK)
		return;
	/* Core's GetBlockProof: 2^256 / (target + 1) == ~target / (target + 1) + 1. */
	for (int i = 0; i < 8; i++)
		inv.w[i] = ~target.w[i];
	if (!al_u256_add(&d, &target, &one))
		return;
	u256_div(work, &inv, &d);
	if (!al_u256_add(work, work, &one))
		memset(work, 0, sizeof(*work));
}

/* ---- merkle trees ------------------------------------------------------------------ */

static void hash_pair(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
	uint8_t buf[64];

	memcpy(buf, l, 32);
	memcpy(buf + 32, r, 32);
	al_sha256d(out, buf, sizeof(buf));
}

/* Nodes at `height` (leaves are height 0) in a tree of n leaves. */
static size_t level_width(size_t n, size_t height)
{
	if (height >= 8 * sizeof(size_t))
		return n ? 1 : 0;
	return (n >> height) + ((n & (((size_t)1 << height) - 1)) != 0);
}

size_t al_merkle_depth(size_t n)
{
	size_t h = 0;

	while (level_width(n, h) > 1)
		h++;
	return h;
}

/* Core's CPartialMerkleTree::CalcHash, noting equal siblings. */
static void calc_hash(uint8_t out[32], const uint8_t (*leaves)[32], size_t n, size_t height,
                      size_t pos, bool *mutated)
{
	uint8_t l[32], r[32];

	if (height == 0) {
		memcpy(out, leaves[pos], 32);
		return;
	}
	calc_hash(l, leaves, n, height - 1, pos * 2, mutated);
	if (pos * 2 + 1 < level_width(n, height - 1)) {
		calc_hash(r, leaves, n, height - 1, pos * 2 + 1, mutated);
		if (memcmp(l, r, 32) == 0)
			*mutated = true;
	} else {
		memcpy(r, l, 32);
	}
	hash_pair(out, l, r);
}

al_err al_merkle_root(uint8_t root[32], bool *mutated, const uint8_t (*leaves)[32], size_t n)
{
	bool mut = false;

	if (!root || !leaves || n == 0)
		return AL_E_ARG;
	calc_hash(root, leaves, n, al_merkle_depth(n), 0, &mut);
	if (mutated)
		*mutated = mut;
	return AL_OK;
}

al_err al_merkle_branch(uint8_t (*branch)[32], size_t cap, size_t *n_branch,
                        const uint8_t (*leaves)[32], size_t n, size_t pos)
{
	size_t depth = al_merkle_depth(n);
	bool mut = false;

	if (!leaves || !n_branch || n == 0)
		return AL_E_ARG;
	if (pos >= n)
		return AL_E_RANGE;
	if (cap < depth)
		return AL_E_BUFSIZE;
	for (size_t h = 0; h < depth; h++) {
		size_t me = pos >> h, sib = me ^ 1;

		/* The last node of an odd level is paired with itself. */
		if (sib >= level_width(n, h))
			sib = me;
		calc_hash(branch[h], leaves, n, h, sib, &mut);
	}
	*n_branch = depth;
	return AL_OK;
}

al_err al_merkle_branch_root(uint8_t root[32], const uint8_t leaf[32], const uint8_t (*branch)[32],
                             size_t n_branch, uint32_t pos)
{
	uint8_t cur[32];

	if (n_branch < 32 && (pos >> n_branch) != 0)
		return AL_E_RANGE;
	memcpy(cur, leaf, 32);
	for (size_t i = 0; i < n_branch; i++) {
		if (i < 32 && ((pos >> i) & 1))
			hash_pair(cur, branch[i], cur);
		else
			hash_pair(cur, cur, branch[i]);
	}
	memcpy(root, cur, 32);
	return AL_OK;
}

/* Could these 64 bytes be a transaction in a block? A txid hashes the serialization
 * without witness, and in 64 bytes that can only be one input and one output (CheckTransaction
 * refuses an empty vin or vout, and a second input or output needs more room): version (4),
 * 1, prevout (36), scriptSig length S and S bytes, sequence (4), 1, amount (8, at most
 * MAX_MONEY), script length P and P bytes, nLockTime (4), so S + P == 4. A random node
 * passes with probability about 2^-45; a real 64-byte transaction always does. */
static bool tx_shaped(const uint8_t n[64])
{
	size_t s = n[41];
	uint64_t amount = 0;

	if (n[4] != 1 || s > 4 || n[46 + s] != 1 || n[55 + s] != 4 - s)
		return false;
	for (size_t i = 0; i < 8; i++)
		amount |= (uint64_t)n[47 + s + i] << (8 * i);
	return amount <= AL_MAX_MONEY_SAT;
}

al_err al_merkle_branch_verify(const uint8_t root[32], const uint8_t leaf[32],
                               const uint8_t (*branch)[32], size_t n_branch, uint32_t pos,
                               size_t n_tx)
{
	uint8_t cur[32], node[64];

	if (n_tx && n_branch != al_merkle_depth(n_tx))
		return AL_E_CHAIN_MERKLE_DEPTH;
	if ((n_tx && pos >= n_tx) || (n_branch < 32 && (pos >> n_branch) != 0))
		return AL_E_CHAIN_MERKLE_POS;
	memcpy(cur, leaf, 32);
	for (size_t i = 0; i < n_branch; i++) {
		bool right = i < 32 && ((pos >> i) & 1);
		size_t me = i < 32 ? pos >> i : 0;

		/* Core (consensus/merkle.cpp): "if the number of hashes in the list at a given
		 * level is odd, the last one is duplicated"; two equal siblings anywhere else are
		 * CVE-2012-2459's mutation, which no valid block has. */
		if (n_tx &&
		    (!right && me + 1 >= level_width(n_tx, i)) != !memcmp(branch[i], cur, 32))
			return AL_E_CHAIN_MERKLE_PADDING;
		memcpy(node, right ? branch[i] : cur, 32);
		memcpy(node + 32, right ? cur : branch[i], 32);
		/* The leaf-node weakness (CVE-2017-12842): a 64-byte transaction hashes like an
		 * inner node, so a branch may continue below it to a "transaction" that is half
		 * of it. Electrum's verifier refuses any inner node that parses as one. */
		if (tx_shaped(node))
			return AL_E_CHAIN_MERKLE_INNER_TX;
		al_sha256d(cur, node, sizeof(node));
	}
	return memcmp(cur, root, 32) == 0 ? AL_OK : AL_E_CHAIN_MERKLE;
}

/* ---- BIP 37 partial merkle trees ------------------------------------------------- */

typedef struct pmt_build {
	const uint8_t (*leaves)[32];
	size_t n;
	const bool *match;
	al_wb *w;        /* NULL while counting */
	int pass;        /* 0: count, 1: hashes, 2: flag bits */
	size_t n_hashes; /* pass 0 results */
	size_t n_bits;
	uint8_t acc; /* pass 2: flag byte being filled */
} pmt_build;

static void pmt_emit_bit(pmt_build *b, bool bit)
{
	if (b->pass == 2) {
		if (bit)
			b->acc |= (uint8_t)(1u << (b->n_bits % 8));
		if (b->n_bits % 8 == 7) {
			al_wb_u8(b->w, b->acc);
			b->acc = 0;
		}
	}
	b->n_bits++;
}

/* Core's CPartialMerkleTree::TraverseAndBuild, emitting in one of three passes. */
static void pmt_build_node(pmt_build *b, size_t height, size_t pos)
{
	bool parent_of_match = false;
	size_t lo = height < 8 * sizeof(size_t) ? pos << height : 0;

	for (size_t p = lo; p < b->n && (height >= 8 * sizeof(size_t) || p < (pos + 1) << height);
	     p++) {
		if (b->match[p]) {
			parent_of_match = true;
			break;
		}
	}
	pmt_emit_bit(b, parent_of_match);
	if (height == 0 || !parent_of_match) {
		if (b->pass == 1) {
			uint8_t h[32];
			bool mut = false;

			calc_hash(h, b->leaves, b->n, height, pos, &mut);
			al_wb_bytes(b->w, h, 32);
		}
		b->n_hashes++;
		return;
	}
	pmt_build_node(b, height - 1, pos * 2);
	if (pos * 2 + 1 < level_width(b->n, height - 1))
		pmt_build_node(b, height - 1, pos * 2 + 1);
}

al_err al_merkleblock_write(al_wb *w, const al_block_header *h, const uint8_t (*leaves)[32],
                            size_t n, const bool *match)
{
	pmt_build b = {.leaves = leaves, .n = n, .match = match, .w = w};
	uint8_t hdr[AL_BLOCK_HEADER_LEN];
	size_t depth = al_merkle_depth(n), n_hashes, n_bits;

	if (!w || !h || !leaves || !match || n == 0 || n > UINT32_MAX)
		return AL_E_ARG;
	pmt_build_node(&b, depth, 0);
	n_hashes = b.n_hashes;
	n_bits = b.n_bits;
	al_block_header_write(hdr, h);
	al_wb_bytes(w, hdr, sizeof(hdr));
	al_wb_le32(w, (uint32_t)n);
	al_wb_compactsize(w, n_hashes);
	b.pass = 1;
	b.n_hashes = b.n_bits = 0;
	pmt_build_node(&b, depth, 0);
	al_wb_compactsize(w, (n_bits + 7) / 8);
	b.pass = 2;
	b.n_hashes = b.n_bits = 0;
	pmt_build_node(&b, depth, 0);
	if (b.n_bits % 8)
		al_wb_u8(w, b.acc);
	return w->err;
}

al_err al_merkleblock_parse(al_merkleblock *mb, const uint8_t *raw, size_t len)
{
	al_cur c;
	uint64_t n_hashes, n_flags;

	if (!mb || (!raw && len))
		return AL_E_ARG;
	memset(mb, 0, sizeof(*mb));
	al_cur_init(&c, raw, len);
	al_block_header_read(&c, &mb->header);
	mb->n_tx = al_cur_le32(&c);
	n_hashes = al_cur_compactsize(&c);
	if (al_cur_ok(&c) && n_hashes > al_cur_remaining(&c) / 32)
		al_cur_fail(&c, AL_E_TRUNCATED);
	mb->hashes = al_cur_ptr(&c, (size_t)n_hashes * 32);
	n_flags = al_cur_compactsize(&c);
	if (al_cur_ok(&c) && n_flags > al_cur_remaining(&c))
		al_cur_fail(&c, AL_E_TRUNCATED);
	mb->flags = al_cur_ptr(&c, (size_t)n_flags);
	AL_TRY(al_cur_done(&c));
	mb->n_hashes = (size_t)n_hashes;
	mb->n_flag_bytes = (size_t)n_flags;
	/* Core's CPartialMerkleTree::ExtractMatches sanity checks. */
	if (mb->n_tx == 0 || mb->n_tx > AL_BLOCK_MAX_TX || mb->n_hashes > mb->n_tx ||
	    mb->n_flag_bytes * 8 < mb->n_hashes)
		return AL_E_CHAIN_MERKLEBLOCK;
	return AL_OK;
}

typedef struct pmt_walk {
	const al_merkleblock *mb;
	size_t bits_used, hashes_used;
	uint8_t (*matched)[32];
	uint32_t *pos;
	size_t cap, n_matched;
	al_err err;
} pmt_walk;

/* Core's CPartialMerkleTree::TraverseAndExtract. */
static void pmt_extract(pmt_walk *t, size_t height, size_t pos, uint8_t out[32])
{
	const al_merkleblock *mb = t->mb;
	bool parent_of_match;
	uint8_t l[32], r[32];

	memset(out, 0, 32);
	if (t->err)
		return;
	if (t->bits_used >= mb->n_flag_bytes * 8) {
		t->err = AL_E_CHAIN_MERKLEBLOCK; /* overflowed the bits array */
		return;
	}
	parent_of_match = (mb->flags[t->bits_used / 8] >> (t->bits_used % 8)) & 1;
	t->bits_used++;
	if (height == 0 || !parent_of_match) {
		if (t->hashes_used >= mb->n_hashes) {
			t->err = AL_E_CHAIN_MERKLEBLOCK; /* overflowed the hash array */
			return;
		}
		memcpy(out, mb->hashes + 32 * t->hashes_used++, 32);
		if (height == 0 && parent_of_match) {
			if (t->n_matched >= t->cap) {
				t->err = AL_E_BUFSIZE;
				return;
			}
			memcpy(t->matched[t->n_matched], out, 32);
			t->pos[t->n_matched++] = (uint32_t)pos;
		}
		return;
	}
	pmt_extract(t, height - 1, pos * 2, l);
	if (pos * 2 + 1 < level_width(mb->n_tx, height - 1)) {
		pmt_extract(t, height - 1, pos * 2 + 1, r);
		/* CVE-2012-2459: equal siblings would let a different tree share the root. */
		if (!t->err && memcmp(l, r, 32) == 0)
			t->err = AL_E_CHAIN_MERKLEBLOCK;
	} else {
		memcpy(r, l, 32);
	}
	hash_pair(out, l, r);
}

al_err al_merkleblock_extract(const al_merkleblock *mb, uint8_t (*matched)[32], uint32_t *pos,
                              size_t cap, size_t *n_matched)
{
	pmt_walk t = {.mb = mb, .matched = matched, .pos = pos, .cap = cap};
	uint8_t root[32];

	if (!mb || !n_matched || (cap && (!matched || !pos)))
		return AL_E_ARG;
	if (mb->n_tx == 0 || mb->n_tx > AL_BLOCK_MAX_TX || mb->n_hashes > mb->n_tx ||
	    mb->n_flag_bytes * 8 < mb->n_hashes)
		return AL_E_CHAIN_MERKLEBLOCK;
	pmt_extract(&t, al_merkle_depth(mb->n_tx), 0, root);
	if (t.err)
		return t.err;
	/* Every hash used, and every bit up to the padding of the last byte. */
	if ((t.bits_used + 7) / 8 != mb->n_flag_bytes || t.hashes_used != mb->n_hashes)
		return AL_E_CHAIN_MERKLEBLOCK;
	if (memcmp(root, mb->header.merkle_root, 32) != 0)
		return AL_E_CHAIN_MERKLE;
	*n_matched = t.n_matched;
	return AL_OK;
}

/* ---- coinbase ---------------------------------------------------------------------- */

void al_bip34_height_push(al_wb *w, uint32_t height)
{
	al_script_push_num(w, (int64_t)height);
}

bool al_bip34_check(const uint8_t *script_sig, size_t len, uint32_t height)
{
	uint8_t want[8];
	al_wb w;

	al_wb_init(&w, want, sizeof(want));
	al_bip34_height_push(&w, height);
	return al_wb_ok(&w) && len >= w.len && memcmp(script_sig, want, w.len) == 0;
}

static const uint8_t commit_magic[6] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};

void al_witness_commitment(uint8_t out[32], const uint8_t wtxid_root[32],
                           const uint8_t reserved[32])
{
	hash_pair(out, wtxid_root, reserved);
}

void al_witness_commitment_script(al_wb *w, const uint8_t commitment[32])
{
	al_wb_bytes(w, commit_magic, sizeof(commit_magic));
	al_wb_bytes(w, commitment, 32);
}

long al_witness_commitment_find(const al_tx *coinbase, uint8_t out[32])
{
	for (size_t i = coinbase->n_out; i-- > 0;) {
		const al_bytes *s = &coinbase->out[i].script;

		/* BIP 141: "a scriptPubKey of at least 38 bytes" starting with the magic. */
		if (s->len >= AL_WITNESS_COMMIT_SCRIPT_LEN &&
		    memcmp(s->p, commit_magic, sizeof(commit_magic)) == 0) {
			if (out)
				memcpy(out, s->p + sizeof(commit_magic), 32);
			return (long)i;
		}
	}
	return -1;
}

/* ---- whole blocks ---------------------------------------------------------------- */

bool al_tx_is_coinbase(const al_tx *tx)
{
	static const uint8_t zero[32];

	return tx->n_in == 1 && tx->in[0].vout == 0xffffffff &&
	       memcmp(tx->in[0].txid, zero, 32) == 0;
}

static void skip_varbytes(al_cur *c)
{
	uint64_t n = al_cur_compactsize(c);

	if (al_cur_ok(c) && n > al_cur_remaining(c))
		al_cur_fail(c, AL_E_TRUNCATED);
	al_cur_skip(c, (size_t)n);
}

size_t al_tx_span(const uint8_t *raw, size_t len, int64_t *bad_amount)
{
	al_cur c;
	uint64_t n_in, n_out;
	bool segwit = false;

	al_cur_init(&c, raw, len);
	if (bad_amount)
		*bad_amount = 0;

	al_cur_skip(&c, 4);
	if (al_cur_remaining(&c) >= 2 && c.p[0] == 0 && c.p[1] == 1) {
		segwit = true;
		al_cur_skip(&c, 2);
	}
	n_in = al_cur_compactsize(&c);
	for (uint64_t i = 0; i < n_in && al_cur_ok(&c); i++) {
		al_cur_skip(&c, 36);
		skip_varbytes(&c);
		al_cur_skip(&c, 4);
	}
	n_out = al_cur_compactsize(&c);
	for (uint64_t i = 0; i < n_out && al_cur_ok(&c); i++) {
		uint64_t amount = al_cur_le64(&c);

		if (bad_amount && !*bad_amount && amount > AL_MAX_MONEY_SAT)
			*bad_amount = (int64_t)amount;
		skip_varbytes(&c);
	}
	for (uint64_t i = 0; segwit && i < n_in && al_cur_ok(&c); i++) {
		uint64_t items = al_cur_compactsize(&c);

		for (uint64_t j = 0; j < items && al_cur_ok(&c); j++)
			skip_varbytes(&c);
	}
	al_cur_skip(&c, 4);
	return al_cur_ok(&c) ? len - c.len : 0;
}

static al_err read_tx(al_cur *c, al_arena *a, al_tx *tx)
{
	size_t len = al_tx_span(c->p, c->len, NULL);
	/* On failure, hand al_tx_parse everything so that it reports the error. */
	al_err e = al_tx_parse(tx, a, c->p, len ? len : c->len);

	if (e == AL_OK)
		al_cur_skip(c, len ? len : c->len);
	return e;
}

al_err al_block_parse(al_block *b, al_arena *a, const uint8_t *raw, size_t len)
{
	al_cur c;
	uint64_t n;
	size_t mark;
	al_err e = AL_OK;

	if (!b || !a || (!raw && len))
		return AL_E_ARG;
	mark = al_arena_mark(a);
	memset(b, 0, sizeof(*b));
	al_cur_init(&c, raw, len);
	al_block_header_read(&c, &b->header);
	n = al_cur_compactsize(&c);
	if (!al_cur_ok(&c))
		return c.err;
	if (n == 0 || n > AL_BLOCK_MAX_TX || n > al_cur_remaining(&c) / 10)
		return AL_E_CHAIN_NO_TX;
	e = al_arena_alloc(a, (size_t)n * sizeof(al_tx), _Alignof(al_tx), (void **)&b->tx);
	for (size_t i = 0; e == AL_OK && i < n; i++)
		e = read_tx(&c, a, &b->tx[i]);
	if (e == AL_OK)
		e = al_cur_done(&c);
	if (e != AL_OK) {
		al_arena_release(a, mark);
		memset(b, 0, sizeof(*b));
		return e;
	}
	b->n_tx = (size_t)n;
	return AL_OK;
}

/* Core's GetBlockWeight: stripped size times 3 plus total size. */
static size_t block_weight(const al_block *b)
{
	size_t w = 4 * (AL_BLOCK_HEADER_LEN + al_compactsize_len(b->n_tx));

	for (size_t i = 0; i < b->n_tx; i++)
		w += al_tx_weight(&b->tx[i]);
	return w;
}

static al_err check_coinbase(const al_block *b, uint32_t height)
{
	const al_tx_in *in;

	if (!al_tx_is_coinbase(&b->tx[0]))
		return AL_E_CHAIN_COINBASE;
	for (size_t i = 1; i < b->n_tx; i++) {
		if (al_tx_is_coinbase(&b->tx[i]))
			return AL_E_CHAIN_COINBASE;
	}
	in = &b->tx[0].in[0];
	if (in->script_sig.len < AL_COINBASE_SCRIPT_MIN ||
	    in->script_sig.len > AL_COINBASE_SCRIPT_MAX)
		return AL_E_TXV_CB_LENGTH;
	/* BIP 34: "the first serialized element in the scriptSig of coinbase
	 * transactions [is] the height". */
	if (!al_bip34_check(in->script_sig.p, in->script_sig.len, height))
		return AL_E_CHAIN_CB_HEIGHT;
	return AL_OK;
}

static al_err check_witness(const al_block *b, uint8_t (*ids)[32])
{
	const al_tx *cb = &b->tx[0];
	uint8_t want[32], root[32], got[32];
	long idx = al_witness_commitment_find(cb, want);

	if (idx < 0) {
		/* BIP 141: without a commitment no transaction may carry witness data. */
		for (size_t i = 0; i < b->n_tx; i++) {
			if (al_tx_has_witness(&b->tx[i]))
				return AL_E_CHAIN_WITNESS_UNEXPECTED;
		}
		return AL_OK;
	}
	/* BIP 141: "the coinbase's input's witness must consist of a single 32-byte
	 * array for the witness reserved value". */
	if (cb->in[0].n_witness != 1 || cb->in[0].witness[0].len != 32)
		return AL_E_CHAIN_WITNESS_COMMIT;
	/* "the wtxid of coinbase transaction is assumed to be 0x0000....0000". */
	memset(ids[0], 0, 32);
	for (size_t i = 1; i < b->n_tx; i++)
		al_tx_wtxid(&b->tx[i], ids[i]);
	AL_TRY(al_merkle_root(root, NULL, (const uint8_t(*)[32])ids, b->n_tx));
	al_witness_commitment(got, root, cb->in[0].witness[0].p);
	return memcmp(got, want, 32) == 0 ? AL_OK : AL_E_CHAIN_WITNESS_COMMIT;
}

static al_err check_block(const al_block *b, al_net net, uint32_t height, uint8_t (*ids)[32])
{
	uint8_t root[32];
	bool mutated;

	AL_TRY(al_block_header_check_pow(&b->header, net));
	if (b->n_tx == 0)
		return AL_E_CHAIN_NO_TX;
	for (size_t i = 0; i < b->n_tx; i++)
		al_tx_txid(&b->tx[i], ids[i]);
	AL_TRY(al_merkle_root(root, &mutated, (const uint8_t(*)[32])ids, b->n_tx));
	if (memcmp(root, b->header.merkle_root, 32) != 0)
		return AL_E_CHAIN_MERKLE;
	if (mutated)
		return AL_E_CHAIN_MUTATED;
	AL_TRY(check_coinbase(b, height));
	AL_TRY(check_witness(b, ids));
	return block_weight(b) > AL_BLOCK_MAX_WEIGHT ? AL_E_CHAIN_WEIGHT : AL_OK;
}

al_err al_block_check(const al_block *b, al_net net, uint32_t height, al_arena *scratch)
{
	size_t mark;
	uint8_t(*ids)[32];
	al_err e;

	if (!b || !scratch || !b->tx)
		return AL_E_ARG;
	mark = al_arena_mark(scratch);
	AL_TRY(al_arena_alloc(scratch, b->n_tx * 32, 8, (void **)&ids));
	e = check_block(b, net, height, ids);
	al_arena_release(scratch, mark);
	return e;
}

/* ---- genesis ------------------------------------------------------------------------ */

/* The coinbase of every genesis block (Core's CreateGenesisBlock): "The Times
 * 03/Jan/2009 Chancellor on brink of second bailout for banks", 50 BTC to a P2PK. */
static const char genesis_coinbase_hex[] =
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d"
    "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f"
    "6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2"
    "052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649"
    "f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
#define GENESIS_COINBASE_LEN 204

static void genesis_coinbase(uint8_t out[GENESIS_COINBASE_LEN])
{
	if (al_hex_decode_exact(out, GENESIS_COINBASE_LEN, genesis_coinbase_hex) != AL_OK)
		memset(out, 0, GENESIS_COINBASE_LEN);
}

void al_genesis_header(al_block_header *h, al_net net)
{
	uint8_t cb[GENESIS_COINBASE_LEN];

	memset(h, 0, sizeof(*h));
	h->version = 1;
	genesis_coinbase(cb);
	/* One transaction: the merkle root is its txid. */
	al_sha256d(h->merkle_root, cb, sizeof(cb));
	/* Time, bits and nonce from Core's chainparams.cpp. */
	switch (net) {
	case AL_NET_MAINNET:
		h->time = 1231006505;
		h->bits = 0x1d00ffff;
		h->nonce = 2083236893;
		break;
	case AL_NET_TESTNET: /* testnet3 */
		h->time = 1296688602;
		h->bits = 0x1d00ffff;
		h->nonce = 414098458;
		break;
	case AL_NET_REGTEST:
	default:
		h->time = 1296688602;
		h->bits = 0x207fffff;
		h->nonce = 2;
		break;
	}
}

size_t al_genesis_block_len(void)
{
	return AL_BLOCK_HEADER_LEN + 1 + GENESIS_COINBASE_LEN;
}

void al_genesis_block_write(al_wb *w, al_net net)
{
	al_block_header h;
	uint8_t hdr[AL_BLOCK_HEADER_LEN], cb[GENESIS_COINBASE_LEN];

	al_genesis_header(&h, net);
	al_block_header_write(hdr, &h);
	genesis_coinbase(cb);
	al_wb_bytes(w, hdr, sizeof(hdr));
	al_wb_compactsize(w, 1);
	al_wb_bytes(w, cb, sizeof(cb));
}
