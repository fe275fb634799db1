/* Block primitives against real chain data.
 *
 * Sources: genesis hashes from Bitcoin Core's chainparams.cpp; block 100,000 of
 * mainnet as `bitcoin-cli getblockheader 000000000003ba27...e506` prints it (version 1,
 * prev 000000000002d01c..., merkleroot f3e94742..., time 1293623863, bits 1b04864c,
 * nonce 274148111, chainwork ...0644cb7f5234089e) and its four txids from `getblock`;
 * the merkle proof of its second transaction as mempool.space's Esplora serves it
 * (GET /tx/fff2...02c4/merkle-proof: {"block_height":100000,"merkle":["8c14...6d87",
 * "8e30...ae49"],"pos":1}); compact-target cases from Core's arith_uint256_tests.cpp. */
#include <string.h>

#include "btc/script.h"
#include "btc/tx.h"
#include "chain/block.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"

static void display_hash(uint8_t out[32], const char *hex)
{
	CHECK_OK(al_txid_from_hex(out, hex));
}

static void check_display(const uint8_t h[32], const char *want)
{
	char got[65];

	al_txid_to_hex(got, h);
	CHECK(strcmp(got, want) == 0);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "  got %s\n want %s\n", got, want);
}

static void test_genesis(void)
{
	static const struct {
		al_net net;
		const char *hash;
	} g[] = {
	    {AL_NET_MAINNET, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
	    {AL_NET_TESTNET, "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
	    {AL_NET_REGTEST, "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
	};
	uint8_t raw[400], h[32], mem[8192];
	al_block_header hdr;
	al_block b;
	al_arena a;
	al_wb w;

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		al_genesis_header(&hdr, g[i].net);
		al_block_header_hash(h, &hdr);
		check_display(h, g[i].hash);
		check_display(hdr.merkle_root,
		              "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
		CHECK_OK(al_block_header_check_pow(&hdr, g[i].net));
		al_wb_init(&w, raw, sizeof(raw));
		al_genesis_block_write(&w, g[i].net);
		CHECK(al_wb_ok(&w) && w.len == al_genesis_block_len() && w.len == 285);
		al_arena_init(&a, mem, sizeof(mem));
		CHECK_OK(al_block_parse(&b, &a, raw, w.len));
		CHECK(b.n_tx == 1 && al_tx_is_coinbase(&b.tx[0]));
		CHECK(b.tx[0].out[0].amount.sat == 5000000000ULL);
		CHECK(memcmp(&b.header, &hdr, sizeof(hdr)) == 0);
		/* Truncated and with a trailing byte. */
		CHECK_ERR(al_block_parse(&b, &a, raw, w.len - 1), AL_E_TRUNCATED);
		raw[w.len] = 0;
		CHECK_ERR(al_block_parse(&b, &a, raw, w.len + 1), AL_E_TRAILING);
	}
	/* A regtest header does not pass mainnet's proof of work (target too easy). */
	al_genesis_header(&hdr, AL_NET_REGTEST);
	CHECK_ERR(al_block_header_check_pow(&hdr, AL_NET_MAINNET), AL_E_CHAIN_BITS);
	/* Another nonce: the first one whose hash lands above the target. */
	for (hdr.nonce = 0;; hdr.nonce++) {
		al_block_header_hash(h, &hdr);
		if (h[31] >= 0x80)
			break;
	}
	CHECK_ERR(al_block_header_check_pow(&hdr, AL_NET_REGTEST), AL_E_CHAIN_POW);
}

static const char *b100k_txids[4] = {
    "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
    "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
    "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
    "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
};

static void b100k_header(al_block_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = 1;
	display_hash(h->prev_hash,
	             "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250");
	display_hash(h->merkle_root,
	             "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766");
	h->time = 1293623863;
	h->bits = 0x1b04864c;
	h->nonce = 274148111;
}

static void test_header_100k(void)
{
	al_block_header h, back;
	uint8_t raw[AL_BLOCK_HEADER_LEN + 1], hash[32], be[32], want[32];
	al_u256 t, work, one, sum;

	b100k_header(&h);
	al_block_header_hash(hash, &h);
	check_display(hash, "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506");
	CHECK_OK(al_block_header_check_pow(&h, AL_NET_MAINNET));
	al_block_header_write(raw, &h);
	CHECK_OK(al_block_header_parse(&back, raw, AL_BLOCK_HEADER_LEN));
	CHECK(memcmp(&back, &h, sizeof(h)) == 0);
	CHECK_ERR(al_block_header_parse(&back, raw, 79), AL_E_TRUNCATED);
	CHECK_ERR(al_block_header_parse(&back, raw, 81), AL_E_TRAILING);
	CHECK_ERR(al_block_header_parse(&back, raw, 0), AL_E_TRUNCATED);

	/* Target 000000000004864c00..., work 2^256 / (target + 1). */
	CHECK_OK(al_bits_to_target(&t, h.bits));
	al_u256_to_be(be, &t);
	CHECK_OK(al_hex_decode_exact(
	    want, 32, "000000000004864c000000000000000000000000000000000000000000000000"));
	CHECK_MEM(be, want, 32);
	CHECK(al_target_to_bits(&t) == 0x1b04864c);
	al_block_work(&work, h.bits);
	memset(&one, 0, sizeof(one));
	CHECK(work.w[0] == 0x6224e37e && work.w[1] == 0x3894 && work.w[2] == 0);
	al_block_work(&work, 0x1d00ffff); /* genesis chainwork 0x100010001 */
	CHECK(work.w[0] == 0x00010001 && work.w[1] == 1);
	al_block_work(&work, 0x207fffff);
	CHECK(work.w[0] == 2 && work.w[1] == 0);
	one.w[0] = 1;
	CHECK(al_u256_add(&sum, &work, &one) && sum.w[0] == 3);
	memset(&t, 0xff, sizeof(t));
	CHECK(!al_u256_add(&sum, &t, &one));
	/* One bit flipped in the nonce breaks the proof of work. */
	h.nonce ^= 1;
	CHECK_ERR(al_block_header_check_pow(&h, AL_NET_MAINNET), AL_E_CHAIN_POW);
}

static void test_compact(void)
{
	al_u256 t;
	uint8_t be[32];

	/* Core's arith_uint256_tests (SetCompact / GetCompact). */
	CHECK_ERR(al_bits_to_target(&t, 0x01003456), AL_E_CHAIN_BITS); /* zero */
	CHECK_OK(al_bits_to_target(&t, 0x01123456));
	CHECK(t.w[0] == 0x12 && al_target_to_bits(&t) == 0x01120000);
	CHECK_OK(al_bits_to_target(&t, 0x02123456));
	CHECK(t.w[0] == 0x1234 && al_target_to_bits(&t) == 0x02123400);
	CHECK_OK(al_bits_to_target(&t, 0x05009234));
	CHECK(t.w[0] == 0x92340000 && al_target_to_bits(&t) == 0x05009234);
	CHECK_ERR(al_bits_to_target(&t, 0x04923456), AL_E_CHAIN_BITS); /* negative */
	CHECK_OK(al_bits_to_target(&t, 0x20123456));
	al_u256_to_be(be, &t);
	CHECK(be[0] == 0x12 && be[1] == 0x34 && be[2] == 0x56 && be[3] == 0);
	CHECK(al_target_to_bits(&t) == 0x20123456);
	CHECK_ERR(al_bits_to_target(&t, 0xff123456), AL_E_CHAIN_BITS); /* overflow */
	CHECK_ERR(al_bits_to_target(&t, 0x22000100), AL_E_CHAIN_BITS);
	CHECK_OK(al_bits_to_target(&t, 0x207fffff));
	CHECK(al_target_to_bits(&t) == 0x207fffff);
}

/* Every position of every block of 1..max of these leaves verifies against the root and
 * the block's transaction count. */
static void all_positions_verify(const uint8_t (*leaves)[32], size_t max)
{
	uint8_t root[32], branch[8][32];
	size_t nb;

	for (size_t n = 1; n <= max; n++) {
		CHECK_OK(al_merkle_root(root, NULL, leaves, n));
		for (size_t p = 0; p < n; p++) {
			CHECK_OK(al_merkle_branch(branch, 8, &nb, leaves, n, p));
			CHECK_OK(al_merkle_branch_verify(
			    root, leaves[p], (const uint8_t(*)[32])branch, nb, (uint32_t)p, n));
		}
	}
}

static void test_merkle_100k(void)
{
	uint8_t leaves[4][32], root[32], branch[8][32], want[32], buf[512], got[4][32];
	uint32_t pos[4];
	size_t nb, nm;
	bool mutated, match[4] = {false, true, false, false};
	al_block_header h;
	al_merkleblock mb;
	al_wb w;

	for (int i = 0; i < 4; i++)
		display_hash(leaves[i], b100k_txids[i]);
	b100k_header(&h);
	CHECK_OK(al_merkle_root(root, &mutated, (const uint8_t(*)[32])leaves, 4));
	CHECK_MEM(root, h.merkle_root, 32);
	CHECK(!mutated);
	CHECK(al_merkle_depth(1) == 0 && al_merkle_depth(2) == 1 && al_merkle_depth(4) == 2 &&
	      al_merkle_depth(5) == 3);

	/* Esplora's merkle-proof for position 1. */
	CHECK_OK(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 4, 1));
	CHECK(nb == 2);
	display_hash(want, b100k_txids[0]);
	CHECK_MEM(branch[0], want, 32);
	display_hash(want, "8e30899078ca1813be036a073bbf80b86cdddde1c96e9e9c99e9e3782df4ae49");
	CHECK_MEM(branch[1], want, 32);
	CHECK_OK(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 2,
	                                 1, 4));
	CHECK_ERR(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 2,
	                                  0, 4),
	          AL_E_CHAIN_MERKLE);
	/* Position 5 does not fit in 2 levels; position 4 is not in a block of 4. */
	CHECK_ERR(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 2,
	                                  5, 0),
	          AL_E_CHAIN_MERKLE_POS);
	CHECK_ERR(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 2,
	                                  4, 4),
	          AL_E_CHAIN_MERKLE_POS);
	/* Too short and too long for 4 transactions (depth 2), though the first may be the
	 * proof of an inner node. */
	CHECK_ERR(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 1,
	                                  1, 4),
	          AL_E_CHAIN_MERKLE_DEPTH);
	CHECK_ERR(al_merkle_branch_verify(h.merkle_root, leaves[1], (const uint8_t(*)[32])branch, 2,
	                                  1, 5),
	          AL_E_CHAIN_MERKLE_DEPTH);
	/* The inner node above leaves 2 and 3 (branch[1]) proven as position 1 of a block of
	 * 2: the branch reaches the real root, and only the real count refutes it. */
	{
		uint8_t inner[1][32], pair[64];

		memcpy(pair, leaves[0], 32);
		memcpy(pair + 32, leaves[1], 32);
		al_sha256d(inner[0], pair, 64);
		CHECK_OK(al_merkle_branch_verify(h.merkle_root, branch[1],
		                                 (const uint8_t(*)[32])inner, 1, 1, 2));
		CHECK_ERR(al_merkle_branch_verify(h.merkle_root, branch[1],
		                                  (const uint8_t(*)[32])inner, 1, 1, 4),
		          AL_E_CHAIN_MERKLE_DEPTH);
	}
	CHECK_ERR(al_merkle_branch(branch, 1, &nb, (const uint8_t(*)[32])leaves, 4, 1),
	          AL_E_BUFSIZE);
	CHECK_ERR(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 4, 4), AL_E_RANGE);
	all_positions_verify((const uint8_t(*)[32])leaves, 4);

	/* BIP 37 merkleblock proving the second transaction. */
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_merkleblock_write(&w, &h, (const uint8_t(*)[32])leaves, 4, match));
	CHECK_OK(al_merkleblock_parse(&mb, buf, w.len));
	CHECK(mb.n_tx == 4 && mb.n_hashes == 3 && mb.n_flag_bytes == 1);
	CHECK_OK(al_merkleblock_extract(&mb, got, pos, 4, &nm));
	CHECK(nm == 1 && pos[0] == 1);
	CHECK_MEM(got[0], leaves[1], 32);
	CHECK_ERR(al_merkleblock_extract(&mb, NULL, NULL, 0, &nm), AL_E_BUFSIZE);
	CHECK_ERR(al_merkleblock_parse(&mb, buf, w.len - 1), AL_E_TRUNCATED);
	CHECK_ERR(al_merkleblock_parse(&mb, buf, 84), AL_E_TRUNCATED);
	buf[w.len] = 0;
	CHECK_ERR(al_merkleblock_parse(&mb, buf, w.len + 1), AL_E_TRAILING);
	/* A changed hash gives another root. */
	buf[80 + 4 + 1 + 40] ^= 1;
	CHECK_OK(al_merkleblock_parse(&mb, buf, w.len));
	CHECK_ERR(al_merkleblock_extract(&mb, got, pos, 4, &nm), AL_E_CHAIN_MERKLE);
	buf[80 + 4 + 1 + 40] ^= 1;
	/* Unused flag bits set beyond the traversal but inside the byte are padding;
	 * a claim of 5 transactions makes the walk run out of hashes. */
	buf[80] = 5;
	CHECK_OK(al_merkleblock_parse(&mb, buf, w.len));
	CHECK_ERR(al_merkleblock_extract(&mb, got, pos, 4, &nm), AL_E_CHAIN_MERKLEBLOCK);
	buf[80] = 0;
	CHECK_ERR(al_merkleblock_parse(&mb, buf, w.len), AL_E_CHAIN_MERKLEBLOCK);

	/* All matched, none matched. */
	for (int i = 0; i < 4; i++)
		match[i] = true;
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_merkleblock_write(&w, &h, (const uint8_t(*)[32])leaves, 4, match));
	CHECK_OK(al_merkleblock_parse(&mb, buf, w.len));
	CHECK_OK(al_merkleblock_extract(&mb, got, pos, 4, &nm));
	CHECK(nm == 4 && pos[3] == 3);
	CHECK_MEM(got, leaves, sizeof(got));
	memset(match, 0, sizeof(match));
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_merkleblock_write(&w, &h, (const uint8_t(*)[32])leaves, 4, match));
	CHECK_OK(al_merkleblock_parse(&mb, buf, w.len));
	CHECK(mb.n_hashes == 1);
	CHECK_OK(al_merkleblock_extract(&mb, got, pos, 4, &nm));
	CHECK(nm == 0);
}

static void test_mutation(void)
{
	uint8_t leaves[4][32], r3[32], r4[32];
	bool mutated;

	for (int i = 0; i < 3; i++)
		display_hash(leaves[i], b100k_txids[i]);
	memcpy(leaves[3], leaves[2], 32);
	/* CVE-2012-2459: [a b c] and [a b c c] share a root; only the second is mutated. */
	CHECK_OK(al_merkle_root(r3, &mutated, (const uint8_t(*)[32])leaves, 3));
	CHECK(!mutated);
	CHECK_OK(al_merkle_root(r4, &mutated, (const uint8_t(*)[32])leaves, 4));
	CHECK(mutated);
	CHECK_MEM(r3, r4, 32);
	CHECK_ERR(al_merkle_root(r3, &mutated, (const uint8_t(*)[32])leaves, 0), AL_E_ARG);
}

static void test_bip34(void)
{
	static const struct {
		uint32_t height;
		const char *hex;
	} v[] = {{1, "51"},       {16, "60"},      {17, "0111"},       {100, "0164"},
	         {128, "028000"}, {500, "02f401"}, {65536, "03000001"}};
	uint8_t buf[8], want[8];
	size_t wl;
	al_wb w;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		al_wb_init(&w, buf, sizeof(buf));
		al_bip34_height_push(&w, v[i].height);
		CHECK_OK(al_hex_decode(want, sizeof(want), &wl, v[i].hex, strlen(v[i].hex)));
		CHECK(w.len == wl && memcmp(buf, want, wl) == 0);
		CHECK(al_bip34_check(buf, w.len, v[i].height));
		CHECK(!al_bip34_check(buf, w.len, v[i].height + 1));
		CHECK(!al_bip34_check(buf, w.len - 1, v[i].height));
	}
}

/* Mine a regtest block: coinbase with height and witness commitment, plus one segwit
 * transaction; then break each rule once. */
static uint8_t blk_mem[1 << 16];

static size_t build_block(uint8_t *out, size_t cap, uint32_t height, bool commit, bool witness)
{
	al_arena a;
	al_tx cb, spend;
	uint8_t zero[32] = {0}, reserved[32] = {0}, ids[2][32], root[32], commitment[32];
	uint8_t cbscript[16], wscript[AL_WITNESS_COMMIT_SCRIPT_LEN], pay[22] = {0, 20};
	uint8_t hdr_hash[32], wit_item[3] = {1, 2, 3}, prev[32];
	al_bytes item = {reserved, 32}, sitem = {wit_item, 3};
	al_block_header h;
	al_wb w;
	al_u256 limit;

	al_arena_init(&a, blk_mem, sizeof(blk_mem));
	memset(prev, 0x11, sizeof(prev));
	al_wb_init(&w, cbscript, sizeof(cbscript));
	al_bip34_height_push(&w, height);
	al_script_op(&w, AL_OP_0);
	if (al_tx_init(&cb, &a, 2, 0, 1, 2) || al_tx_add_input(&cb, zero, 0xffffffff, 0xffffffff))
		return 0;
	cb.in[0].script_sig = (al_bytes){cbscript, w.len};
	if (al_tx_add_output(&cb, al_sat_of(5000000000ULL), pay, sizeof(pay)) ||
	    al_tx_set_witness(&cb, &a, 0, &item, 1))
		return 0;
	if (al_tx_init(&spend, &a, 2, 0, 1, 1) || al_tx_add_input(&spend, prev, 1, 0xfffffffd) ||
	    al_tx_add_output(&spend, al_sat_of(1000), pay, sizeof(pay)))
		return 0;
	if (witness && al_tx_set_witness(&spend, &a, 0, &sitem, 1))
		return 0;
	memset(ids[0], 0, 32);
	al_tx_wtxid(&spend, ids[1]);
	if (al_merkle_root(root, NULL, (const uint8_t(*)[32])ids, 2))
		return 0;
	al_witness_commitment(commitment, root, reserved);
	al_wb_init(&w, wscript, sizeof(wscript));
	al_witness_commitment_script(&w, commitment);
	if (commit && al_tx_add_output(&cb, al_sat_of(0), wscript, w.len))
		return 0;
	al_tx_txid(&cb, ids[0]);
	al_tx_txid(&spend, ids[1]);
	memset(&h, 0, sizeof(h));
	h.version = 0x20000000;
	h.time = 1700000000;
	h.bits = 0x207fffff;
	if (al_merkle_root(h.merkle_root, NULL, (const uint8_t(*)[32])ids, 2))
		return 0;
	al_pow_limit(&limit, AL_NET_REGTEST);
	for (;; h.nonce++) {
		al_block_header_hash(hdr_hash, &h);
		if (al_pow_check(hdr_hash, h.bits, &limit) == AL_OK)
			break;
	}
	al_wb_init(&w, out, cap);
	al_block_header_write(out, &h);
	w.len = AL_BLOCK_HEADER_LEN;
	al_wb_compactsize(&w, 2);
	al_tx_write(&w, &cb, true);
	al_tx_write(&w, &spend, true);
	(void)zero;
	return al_wb_ok(&w) ? w.len : 0;
}

static void test_block_check(void)
{
	static uint8_t raw[4096], mem[1 << 16];
	al_arena a;
	al_block b;
	size_t len;

	al_arena_init(&a, mem, sizeof(mem));
	len = build_block(raw, sizeof(raw), 150, true, true);
	CHECK(len > 0);
	CHECK_OK(al_block_parse(&b, &a, raw, len));
	CHECK(b.n_tx == 2);
	CHECK_OK(al_block_check(&b, AL_NET_REGTEST, 150, &a));
	CHECK_ERR(al_block_check(&b, AL_NET_REGTEST, 151, &a), AL_E_CHAIN_CB_HEIGHT);
	CHECK(al_witness_commitment_find(&b.tx[0], NULL) == 1);
	/* Witness data but no commitment; no witness and no commitment is fine. */
	len = build_block(raw, sizeof(raw), 3, false, true);
	CHECK_OK(al_block_parse(&b, &a, raw, len));
	CHECK_ERR(al_block_check(&b, AL_NET_REGTEST, 3, &a), AL_E_CHAIN_WITNESS_UNEXPECTED);
	/* A wrong commitment: change the reserved value after mining (the coinbase txid
	 * does not cover the witness). */
	len = build_block(raw, sizeof(raw), 3, true, true);
	CHECK_OK(al_block_parse(&b, &a, raw, len));
	((uint8_t *)b.tx[0].in[0].witness[0].p)[0] ^= 1;
	CHECK_ERR(al_block_check(&b, AL_NET_REGTEST, 3, &a), AL_E_CHAIN_WITNESS_COMMIT);
	/* Merkle root and proof of work. */
	len = build_block(raw, sizeof(raw), 3, true, true);
	CHECK_OK(al_block_parse(&b, &a, raw, len));
	b.header.merkle_root[0] ^= 1;
	CHECK(al_block_check(&b, AL_NET_REGTEST, 3, &a) != AL_OK);
	b.header.merkle_root[0] ^= 1;
	b.tx[1] = b.tx[0];
	CHECK(al_block_check(&b, AL_NET_REGTEST, 3, &a) != AL_OK);
	CHECK_ERR(al_block_parse(&b, &a, raw, 81), AL_E_CHAIN_NO_TX);
	CHECK_ERR(al_block_parse(&b, &a, raw, 40), AL_E_TRUNCATED);
}

/* Every position of blocks of 1..11 transactions verifies against their count; the
 * duplicated-last-node rule refuses an odd level's last node with a foreign sibling and a
 * real sibling equal to the node; a level hashing the two halves of a 64-byte
 * transaction is refused wherever it is. */
static void test_merkle_branch_rules(void)
{
	uint8_t leaves[11][32], root[32], branch[8][32], t64[64];
	size_t nb;

	for (size_t i = 0; i < 11; i++) {
		memset(leaves[i], 0, 32);
		leaves[i][0] = (uint8_t)(0x40 + i);
	}
	all_positions_verify((const uint8_t(*)[32])leaves, 11);
	/* 11 leaves: position 10 is alone at levels 0 and 1 (its sibling is itself). */
	CHECK_OK(al_merkle_root(root, NULL, (const uint8_t(*)[32])leaves, 11));
	CHECK_OK(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 11, 10));
	CHECK(nb == 4 && !memcmp(branch[0], leaves[10], 32));
	branch[0][31] ^= 1;
	CHECK_ERR(
	    al_merkle_branch_verify(root, leaves[10], (const uint8_t(*)[32])branch, nb, 10, 11),
	    AL_E_CHAIN_MERKLE_PADDING);
	/* 4 leaves with the last two equal (CVE-2012-2459): position 2's real sibling is itself. */
	memcpy(leaves[3], leaves[2], 32);
	CHECK_OK(al_merkle_root(root, NULL, (const uint8_t(*)[32])leaves, 4));
	CHECK_OK(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 4, 2));
	CHECK_ERR(al_merkle_branch_verify(root, leaves[2], (const uint8_t(*)[32])branch, nb, 2, 4),
	          AL_E_CHAIN_MERKLE_PADDING);
	/* One input with a 4-byte scriptSig, one output with an empty script: 64 bytes. */
	memset(t64, 0, sizeof(t64));
	t64[0] = 2;
	t64[4] = 1;
	t64[41] = 4;
	t64[50] = 1;
	t64[51] = 0xe8;
	t64[52] = 0x03;
	memcpy(leaves[0], t64, 32);
	memcpy(leaves[1], t64 + 32, 32);
	CHECK_OK(al_merkle_root(root, NULL, (const uint8_t(*)[32])leaves, 3));
	CHECK_OK(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 3, 1));
	CHECK_ERR(al_merkle_branch_verify(root, leaves[1], (const uint8_t(*)[32])branch, nb, 1, 0),
	          AL_E_CHAIN_MERKLE_INNER_TX);
	/* An amount above MAX_MONEY cannot be in a block: not a transaction's shape. */
	memset(leaves[1] + (51 - 32), 0xff, 8); /* t64's amount, bytes 51..58 */
	CHECK_OK(al_merkle_root(root, NULL, (const uint8_t(*)[32])leaves, 3));
	CHECK_OK(al_merkle_branch(branch, 8, &nb, (const uint8_t(*)[32])leaves, 3, 1));
	CHECK_OK(al_merkle_branch_verify(root, leaves[1], (const uint8_t(*)[32])branch, nb, 1, 3));
}

int main(void)
{
	test_genesis();
	test_header_100k();
	test_compact();
	test_merkle_100k();
	test_merkle_branch_rules();
	test_mutation();
	test_bip34();
	test_block_check();
	return al_t_finish();
}
