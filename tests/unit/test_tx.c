/* Unit tests for src/btc/tx.c, script.c and sighash.c: hostile and truncated input,
 * arena discipline, builders, weight, script pushes and numbers, sighash arguments. */
#include <stdlib.h>
#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "test.h"
#include "util/hex.h"

/* BIP 143 "Native P2WPKH": the signed transaction (input 0 legacy P2PK with a
 * scriptSig, input 1 P2WPKH) and the unsigned one. */
static const char SIGNED_HEX[] =
    "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000049"
    "4830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b19"
    "4ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279"
    "655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a91482"
    "80b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2"
    "d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb13"
    "66d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee01210254"
    "76c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000";
static const char UNSIGNED_HEX[] =
    "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeff"
    "ffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02"
    "202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976"
    "a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000";

static uint8_t arena_mem[1 << 16];

static al_arena fresh_arena(size_t size)
{
	al_arena a;

	al_arena_init(&a, arena_mem, size);
	return a;
}

/* Serialize into a test buffer; returns the length (0 on failure). */
static size_t write_tx(uint8_t *buf, size_t cap, const al_tx *tx, bool with_witness)
{
	al_wb w;

	al_wb_init(&w, buf, cap);
	al_tx_write(&w, tx, with_witness);
	return al_wb_ok(&w) ? w.len : 0;
}

static void test_parse_known(void)
{
	size_t len, ulen;
	uint8_t *raw = al_t_unhex(SIGNED_HEX, &len), *uraw = al_t_unhex(UNSIGNED_HEX, &ulen);
	uint8_t out[512], h[32];
	al_arena a = fresh_arena(sizeof(arena_mem));
	al_tx tx, utx;

	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	CHECK(tx.version == 1 && tx.n_in == 2 && tx.n_out == 2 && tx.locktime == 0x11);
	CHECK(tx.in[0].script_sig.len == 0x49 && tx.in[0].script_sig.p == raw + 44);
	CHECK(tx.in[0].n_witness == 0 && tx.in[1].n_witness == 2);
	CHECK(tx.in[1].witness[1].len == 33 && tx.in[1].witness[1].p[0] == 0x02);
	CHECK(tx.in[0].sequence == 0xffffffee && tx.in[1].vout == 1);
	CHECK(tx.out[0].amount.sat == 112340000 && tx.out[1].amount.sat == 223450000);
	CHECK(al_tx_has_witness(&tx));
	CHECK(write_tx(out, sizeof(out), &tx, true) == len);
	CHECK_MEM(out, raw, len);
	CHECK(al_tx_len(&tx, true) == len);

	/* BIP 141 weight: the witness part is 00 | 02 47<71 bytes> 21<33 bytes> = 108
	 * bytes plus marker and flag, so base = 343 - 110 = 233 (the unsigned 160 plus
	 * the 73-byte scriptSig) and weight = 3 * 233 + 343 = 1042, vsize 261. */
	CHECK(len == 343);
	CHECK(al_tx_len(&tx, false) == 233);
	CHECK(al_tx_weight(&tx) == 1042);
	CHECK(al_tx_vsize(&tx) == 261);

	/* txid over the legacy form, wtxid over the whole. */
	CHECK(write_tx(out, sizeof(out), &tx, false) == 233);
	al_sha256d(h, out, 233);
	al_tx_txid(&tx, out + 300);
	CHECK_MEM(out + 300, h, 32);
	al_sha256d(h, raw, len);
	al_tx_wtxid(&tx, out + 300);
	CHECK_MEM(out + 300, h, 32);

	/* A legacy transaction: weight 4 * size, wtxid == txid. */
	CHECK_OK(al_tx_parse(&utx, &a, uraw, ulen));
	CHECK(!al_tx_has_witness(&utx));
	CHECK(al_tx_weight(&utx) == 4 * ulen && al_tx_vsize(&utx) == ulen);
	CHECK(write_tx(out, sizeof(out), &utx, true) == ulen);
	CHECK_MEM(out, uraw, ulen);
	al_tx_txid(&utx, h);
	al_tx_wtxid(&utx, out);
	CHECK_MEM(out, h, 32);
	al_sha256d(out, uraw, ulen);
	CHECK_MEM(h, out, 32);

	/* A too-small writer fails rather than overrun. */
	CHECK(write_tx(out, 100, &tx, true) == 0);
}

static void test_truncated_and_trailing(void)
{
	const char *hexes[] = {SIGNED_HEX, UNSIGNED_HEX};
	uint8_t buf[400];
	size_t h, len, n;
	al_tx tx;

	for (h = 0; h < 2; h++) {
		uint8_t *raw = al_t_unhex(hexes[h], &len);

		for (n = 0; n < len; n++) {
			al_arena a = fresh_arena(sizeof(arena_mem));
			/* Copy so that ASan sees a read past `n`. */
			uint8_t *copy = malloc(n ? n : 1);

			memcpy(copy, raw, n);
			CHECK_ERR(al_tx_parse(&tx, &a, copy, n), AL_E_TRUNCATED);
			CHECK(al_arena_used(&a) == 0);
			CHECK(tx.n_in == 0 && tx.in == NULL && tx.out == NULL);
			free(copy);
		}
		memcpy(buf, raw, len);
		buf[len] = 0x00;
		{
			al_arena a = fresh_arena(sizeof(arena_mem));

			CHECK_ERR(al_tx_parse(&tx, &a, buf, len + 1), AL_E_TRAILING);
			CHECK(al_arena_used(&a) == 0);
		}
	}
	{
		al_arena a = fresh_arena(sizeof(arena_mem));

		CHECK_ERR(al_tx_parse(&tx, &a, NULL, 0), AL_E_TRUNCATED);
	}
}

/* Parse hex with a small arena; the arena must not have been asked for more than
 * `max_asked` bytes (so hostile counts cannot make it allocate). */
static al_err parse_small(const char *hex, size_t max_asked)
{
	size_t len;
	uint8_t *raw = al_t_unhex(hex, &len);
	al_arena a = fresh_arena(256);
	al_tx tx;
	al_err e = al_tx_parse(&tx, &a, raw, len);

	CHECK(al_arena_high_water(&a) <= max_asked);
	CHECK(a.failed == 0);
	if (e != AL_OK)
		CHECK(al_arena_used(&a) == 0);
	return e;
}

#define PREVOUT "fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000"
#define TXIN    PREVOUT "00ffffffff"
#define TXOUT                                                                                      \
	"0100000000000000"                                                                         \
	"00"

static void test_hostile_counts(void)
{
	/* Input counts above AL_TX_MAX_INPUTS: refused before anything else. */
	CHECK_ERR(parse_small("01000000"
	                      "fea1860100" TXIN,
	                      0),
	          AL_E_TX_COUNT);
	CHECK_ERR(parse_small("01000000"
	                      "ffffffffffffffffff" TXIN,
	                      0),
	          AL_E_TX_COUNT);
	/* A count within bounds that the remaining bytes cannot hold: truncated, and no
	 * arena asked for 65535 inputs. */
	CHECK_ERR(parse_small("01000000"
	                      "fdffff" TXIN TXIN,
	                      0),
	          AL_E_TRUNCATED);
	CHECK_ERR(parse_small("01000000"
	                      "fea0860100" TXIN,
	                      0),
	          AL_E_TRUNCATED);
	/* The same for outputs. */
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "fea1860100" TXOUT,
	                      256),
	          AL_E_TX_COUNT);
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "fdffff" TXOUT "00000000",
	                      256),
	          AL_E_TRUNCATED);
	/* Witness item counts. */
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "01" TXIN "01" TXOUT "fea1860100"
	                      "00",
	                      256),
	          AL_E_TX_COUNT);
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "01" TXIN "01" TXOUT "fdffff"
	                      "0000000000",
	                      256),
	          AL_E_TRUNCATED);
	/* Byte-string lengths larger than the input, up to 2^64 - 1. */
	CHECK_ERR(parse_small("01000000"
	                      "01" PREVOUT "ffffffffffffffffff",
	                      256),
	          AL_E_TRUNCATED);
	CHECK_ERR(parse_small("01000000"
	                      "01" PREVOUT "feffffffff",
	                      256),
	          AL_E_TRUNCATED);
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "01"
	                      "0100000000000000"
	                      "fd0001",
	                      256),
	          AL_E_TRUNCATED);
	/* The smallest well-formed transaction still parses. */
	CHECK_OK(parse_small("01000000"
	                     "01" TXIN "01" TXOUT "00000000",
	                     256));
	/* Nothing beyond AL_TX_MAX_SIZE is looked at. */
	{
		uint8_t *big = calloc(1, AL_TX_MAX_SIZE + 1);
		al_arena a = fresh_arena(256);
		al_tx tx;

		CHECK_ERR(al_tx_parse(&tx, &a, big, AL_TX_MAX_SIZE + 1), AL_E_TOO_LARGE);
		free(big);
	}
}

static void test_encoding_rules(void)
{
	/* BIP 144 flag must be 1 (the only defined one); 0 would be an empty tx. */
	CHECK_ERR(parse_small("01000000"
	                      "0002"
	                      "01" TXIN "01" TXOUT "0100"
	                      "00000000",
	                      256),
	          AL_E_TX_SEGWIT_FLAG);
	CHECK_ERR(parse_small("01000000"
	                      "0000"
	                      "01" TXIN "01" TXOUT "00000000",
	                      256),
	          AL_E_TX_SEGWIT_FLAG);
	CHECK_ERR(parse_small("01000000"
	                      "00ff"
	                      "01" TXIN "01" TXOUT "0100"
	                      "00000000",
	                      256),
	          AL_E_TX_SEGWIT_FLAG);
	/* Marker and flag with only empty witnesses: "Superfluous witness record". */
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "01" TXIN "01" TXOUT "00"
	                      "00000000",
	                      256),
	          AL_E_TX_EMPTY_WITNESS);
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "02" TXIN TXIN "01" TXOUT "0000"
	                      "00000000",
	                      256),
	          AL_E_TX_EMPTY_WITNESS);
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "00"
	                      "01" TXOUT "00000000",
	                      256),
	          AL_E_TX_EMPTY_WITNESS);
	/* One empty witness item is a witness. */
	CHECK_OK(parse_small("01000000"
	                     "0001"
	                     "02" TXIN TXIN "01" TXOUT "0001"
	                     "00"
	                     "00000000",
	                     256));
	/* Non-canonical CompactSize anywhere. */
	CHECK_ERR(parse_small("01000000"
	                      "fd0100" TXIN "01" TXOUT "00000000",
	                      256),
	          AL_E_TX_NONCANONICAL);
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "fe01000000" TXOUT "00000000",
	                      256),
	          AL_E_TX_NONCANONICAL);
	CHECK_ERR(parse_small("01000000"
	                      "01" PREVOUT "fd0000"
	                      "ffffffff"
	                      "01" TXOUT "00000000",
	                      256),
	          AL_E_TX_NONCANONICAL);
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "01"
	                      "0000000000000000"
	                      "ff0000000000000000"
	                      "00000000",
	                      256),
	          AL_E_TX_NONCANONICAL);
	CHECK_ERR(parse_small("01000000"
	                      "0001"
	                      "01" TXIN "01" TXOUT "01"
	                      "fdfc00"
	                      "00000000",
	                      256),
	          AL_E_TX_NONCANONICAL);
	/* Amounts: MAX_MONEY is fine, one more is not. */
	CHECK_OK(parse_small("01000000"
	                     "01" TXIN "01"
	                     "0040075af0750700"
	                     "00"
	                     "00000000",
	                     256));
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "01"
	                      "0140075af0750700"
	                      "00"
	                      "00000000",
	                      256),
	          AL_E_TX_AMOUNT);
	CHECK_ERR(parse_small("01000000"
	                      "01" TXIN "01"
	                      "ffffffffffffffff"
	                      "00"
	                      "00000000",
	                      256),
	          AL_E_TX_AMOUNT);
}

static void test_arena_exhaustion(void)
{
	size_t len, need, size;
	uint8_t *raw = al_t_unhex(SIGNED_HEX, &len);
	al_arena a;
	al_tx tx;
	void *pre;

	a = fresh_arena(sizeof(arena_mem));
	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	need = al_arena_used(&a);
	CHECK(need > 0);
	/* Fill the arena a little first, so "restored" means back to the mark, not to 0. */
	for (size = 0; size < need + 24; size++) {
		al_arena_init(&a, arena_mem, 24 + size);
		CHECK_OK(al_arena_alloc(&a, 24, 8, &pre));
		if (size < need) {
			CHECK_ERR(al_tx_parse(&tx, &a, raw, len), AL_E_NOMEM);
			CHECK(al_arena_used(&a) == 24);
			CHECK(tx.in == NULL && tx.n_in == 0);
		} else {
			CHECK_OK(al_tx_parse(&tx, &a, raw, len));
		}
	}
}

static void test_builder(void)
{
	size_t len, ulen, sslen;
	uint8_t *raw = al_t_unhex(SIGNED_HEX, &len), *uraw = al_t_unhex(UNSIGNED_HEX, &ulen);
	uint8_t prev0[32], prev1[32], spk0[25], spk1[25], h0[20], h1[20], out[512];
	uint8_t *script_sig, *sig, *pk;
	al_arena a = fresh_arena(sizeof(arena_mem));
	al_bytes wit[2];
	al_tx tx, back;
	al_sat total;
	al_wb w;

	CHECK_OK(al_txid_from_hex(
	    prev0, "9f96ade4b41d5433f4eda31e1738ec2b36f6e7d1420d94a6af99801a88f7f7ff"));
	CHECK_OK(al_txid_from_hex(
	    prev1, "8ac60eb9575db5b2d987e29f301b5b819ea83a5c6579d282d189cc04b8e151ef"));
	CHECK_OK(al_hex_decode_exact(h0, 20, "8280b37df378db99f66f85c95a783a76ac7a6d59"));
	CHECK_OK(al_hex_decode_exact(h1, 20, "3bde42dbee7e4dbe6a21b2d50ce2f0167faa8159"));
	al_wb_init(&w, spk0, sizeof(spk0));
	al_script_p2pkh(&w, h0);
	al_wb_init(&w, spk1, sizeof(spk1));
	al_script_p2pkh(&w, h1);

	CHECK_OK(al_tx_init(&tx, &a, 1, 0x11, 2, 2));
	CHECK_OK(al_tx_add_input(&tx, prev0, 0, 0xffffffee));
	CHECK_OK(al_tx_add_input(&tx, prev1, 1, 0xffffffff));
	CHECK_ERR(al_tx_add_input(&tx, prev1, 2, 0), AL_E_RANGE);
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(112340000), spk0, sizeof(spk0)));
	CHECK_ERR(al_tx_add_output(&tx, al_sat_of(AL_MAX_MONEY_SAT + 1), spk1, sizeof(spk1)),
	          AL_E_TX_AMOUNT);
	CHECK_OK(al_tx_add_output(&tx, al_sat_of(223450000), spk1, sizeof(spk1)));
	CHECK_ERR(al_tx_add_output(&tx, al_sat_of(1), spk1, sizeof(spk1)), AL_E_RANGE);
	/* The unsigned transaction. */
	CHECK(write_tx(out, sizeof(out), &tx, true) == ulen);
	CHECK_MEM(out, uraw, ulen);
	CHECK_OK(al_tx_output_total(&tx, &total));
	CHECK(total.sat == 335790000);

	/* Sign it as the example did: scriptSig for input 0, witness for input 1. */
	script_sig = al_t_unhex("4830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d1"
	                        "14c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf"
	                        "4ecbab4cc618ef3ed01",
	                        &sslen);
	tx.in[0].script_sig.p = script_sig;
	tx.in[0].script_sig.len = sslen;
	sig = al_t_unhex("304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc"
	                 "44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee"
	                 "01",
	                 &wit[0].len);
	pk = al_t_unhex("025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357",
	                &wit[1].len);
	wit[0].p = sig;
	wit[1].p = pk;
	CHECK_ERR(al_tx_set_witness(&tx, &a, 2, wit, 2), AL_E_RANGE);
	CHECK_OK(al_tx_set_witness(&tx, &a, 1, wit, 2));
	CHECK(write_tx(out, sizeof(out), &tx, true) == len);
	CHECK_MEM(out, raw, len);
	CHECK(al_tx_weight(&tx) == 1042);

	/* And back. */
	CHECK_OK(al_tx_parse(&back, &a, out, len));
	CHECK(back.n_in == 2 && back.n_out == 2 && back.in[1].n_witness == 2);
	CHECK(back.in[1].witness[0].len == wit[0].len);
	CHECK_MEM(back.in[0].txid, prev0, 32);

	/* Clearing the witness gives the legacy form. */
	CHECK_OK(al_tx_set_witness(&tx, &a, 1, NULL, 0));
	CHECK(!al_tx_has_witness(&tx));
	CHECK(al_tx_len(&tx, true) == al_tx_len(&tx, false));

	/* Totals refuse more than MAX_MONEY. */
	tx.out[0].amount = al_sat_of(AL_MAX_MONEY_SAT);
	CHECK_ERR(al_tx_output_total(&tx, &total), AL_E_TX_AMOUNT);
	tx.out[1].amount = al_sat_of(UINT64_MAX);
	CHECK_ERR(al_tx_output_total(&tx, &total), AL_E_TX_AMOUNT);

	/* Capacity beyond the parser's bounds, and arena exhaustion, leave the arena. */
	CHECK_ERR(al_tx_init(&tx, &a, 2, 0, AL_TX_MAX_INPUTS + 1, 1), AL_E_RANGE);
	{
		al_arena small = fresh_arena(64);

		CHECK_ERR(al_tx_init(&tx, &small, 2, 0, 1, 1), AL_E_NOMEM);
		CHECK(al_arena_used(&small) == 0);
	}
}

static void test_txid_hex(void)
{
	uint8_t id[32], back[32];
	char hex[65];
	size_t i;

	for (i = 0; i < 32; i++)
		id[i] = (uint8_t)i;
	al_txid_to_hex(hex, id);
	CHECK(strcmp(hex, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100") == 0);
	CHECK_OK(al_txid_from_hex(back, hex));
	CHECK_MEM(back, id, 32);
	CHECK_ERR(al_txid_from_hex(back, "1f1e"), AL_E_HEX);
	CHECK_ERR(al_txid_from_hex(
	              back, "zz1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"),
	          AL_E_HEX);
}

/* ---- scripts ---- */

static bool num_is(int64_t n, const char *hex)
{
	uint8_t buf[16], *want;
	size_t len;
	al_wb w;

	al_wb_init(&w, buf, sizeof(buf));
	al_script_push_num(&w, n);
	want = al_t_unhex(hex, &len);
	return al_wb_ok(&w) && w.len == len && memcmp(buf, want, len) == 0;
}

static void test_script_num(void)
{
	/* BIP 62's table, with its range boundaries. */
	CHECK(num_is(0, "00"));
	CHECK(num_is(1, "51"));
	CHECK(num_is(16, "60"));
	CHECK(num_is(-1, "4f"));
	CHECK(num_is(17, "0111"));
	CHECK(num_is(127, "017f"));
	CHECK(num_is(-2, "0182"));
	CHECK(num_is(-127, "01ff"));
	CHECK(num_is(128, "028000"));
	CHECK(num_is(-128, "028080"));
	CHECK(num_is(144, "029000"));
	CHECK(num_is(255, "02ff00"));
	CHECK(num_is(256, "020001"));
	CHECK(num_is(32767, "02ff7f"));
	CHECK(num_is(-32767, "02ffff"));
	CHECK(num_is(32768, "03008000"));
	CHECK(num_is(-32768, "03008080"));
	CHECK(num_is(8388607, "03ffff7f"));
	CHECK(num_is(8388608, "0400008000"));
	CHECK(num_is(-8388608, "0400008080"));
	CHECK(num_is(2147483647, "04ffffff7f"));
	CHECK(num_is(-2147483647, "04ffffffff"));
	/* Beyond 4 bytes (CLTV takes 5-byte numbers). */
	CHECK(num_is(2147483648LL, "050000008000"));
	CHECK(num_is(500000000, "040065cd1d"));
	CHECK(num_is(INT64_MAX, "08ffffffffffffff7f"));
	CHECK(num_is(INT64_MIN, "09000000000000008080"));
}

static void test_push_boundaries(void)
{
	static uint8_t data[65536 + 8], out[65536 + 16];
	static const struct {
		size_t len;
		const char *prefix;
	} cases[] = {
	    {2, "02"},       {75, "4b"},      {76, "4c4c"},      {255, "4cff"},
	    {256, "4d0001"}, {520, "4d0802"}, {65535, "4dffff"}, {65536, "4e00000100"},
	};
	size_t i, plen;
	uint8_t *prefix;
	al_wb w;

	memset(data, 0xab, sizeof(data));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		prefix = al_t_unhex(cases[i].prefix, &plen);
		al_wb_init(&w, out, sizeof(out));
		al_script_push(&w, data, cases[i].len);
		CHECK(al_wb_ok(&w) && w.len == plen + cases[i].len);
		CHECK_MEM(out, prefix, plen);
		CHECK(memcmp(out + plen, data, cases[i].len) == 0);
	}
	/* The single-byte cases BIP 62 gives to opcodes. */
	{
		static const struct {
			uint8_t byte;
			const char *enc;
		} one[] = {{0x00, "0100"}, {0x01, "51"}, {0x10, "60"},
		           {0x11, "0111"}, {0x81, "4f"}, {0x80, "0180"}};
		size_t len;

		for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
			uint8_t *want = al_t_unhex(one[i].enc, &len);

			al_wb_init(&w, out, sizeof(out));
			al_script_push(&w, &one[i].byte, 1);
			CHECK(w.len == len && memcmp(out, want, len) == 0);
		}
	}
	al_wb_init(&w, out, sizeof(out));
	al_script_push(&w, NULL, 0);
	CHECK(w.len == 1 && out[0] == AL_OP_0);
	/* A writer too small for the push fails cleanly. */
	al_wb_init(&w, out, 10);
	al_script_push(&w, data, 76);
	CHECK(!al_wb_ok(&w));
}

static void test_templates(void)
{
	const al_secp *secp = al_t_secp();
	uint8_t h20[20], h32[32], got[32], buf[64], pkser[33], *want;
	const uint8_t *prog;
	size_t len, plen;
	al_pubkey pk;
	al_wb w;
	int ver;

	memset(h20, 0x11, sizeof(h20));
	memset(h32, 0x22, sizeof(h32));

	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2wpkh(&w, h20);
	CHECK(w.len == 22 && buf[0] == 0x00 && buf[1] == 0x14);
	CHECK(al_script_is_p2wpkh(buf, w.len, got) && memcmp(got, h20, 20) == 0);
	CHECK(!al_script_is_p2wsh(buf, w.len, NULL) && !al_script_is_p2wpkh(buf, w.len - 1, NULL));
	CHECK(al_script_is_witness_program(buf, w.len, &ver, &prog, &plen) && ver == 0 &&
	      plen == 20 && prog == buf + 2);

	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2tr(&w, h32);
	CHECK(w.len == 34 && buf[0] == 0x51 && buf[1] == 0x20);
	CHECK(al_script_is_p2tr(buf, w.len, got) && memcmp(got, h32, 32) == 0);
	CHECK(!al_script_is_p2wsh(buf, w.len, NULL));
	CHECK(al_script_is_witness_program(buf, w.len, &ver, NULL, NULL) && ver == 1);

	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2pkh(&w, h20);
	want = al_t_unhex("76a914111111111111111111111111111111111111111188ac", &len);
	CHECK(w.len == len && memcmp(buf, want, len) == 0);
	CHECK(al_script_is_p2pkh(buf, w.len, got) && !al_script_is_p2sh(buf, w.len, NULL));
	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2wpkh_scriptcode(&w, h20);
	CHECK(w.len == len && memcmp(buf, want, len) == 0);

	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2sh(&w, h20);
	CHECK(w.len == 23 && buf[0] == 0xa9 && buf[22] == 0x87);
	CHECK(al_script_is_p2sh(buf, w.len, got) &&
	      !al_script_is_witness_program(buf, w.len, NULL, NULL, NULL));

	/* P2WSH of the BIP 143 "Native P2WSH #2" first witnessScript. */
	want = al_t_unhex("0063ab68210392972e2eb617b2388771abe27235fd5ac44af8e61693261550447a4c3e"
	                  "39da98ac",
	                  &len);
	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2wsh(&w, want, len);
	want = al_t_unhex("0020ba468eea561b26301e4cf69fa34bde4ad60c81e70f059f045ca9a79931004a4d",
	                  &len);
	CHECK(w.len == len && memcmp(buf, want, len) == 0);
	CHECK(al_script_is_p2wsh(buf, w.len, NULL));

	/* BIP 143 "P2SH-P2WPKH": the key hashes to the stated redeemScript. */
	CHECK_OK(al_hex_decode_exact(
	    pkser, 33, "03ad1d8e89212f0b92c74d23bb710c00662ad1470198ac48c43f7d6f93a2a26873"));
	CHECK_OK(al_pubkey_parse(secp, &pk, pkser, 33));
	al_wb_init(&w, buf, sizeof(buf));
	al_script_p2wpkh_pubkey(&w, secp, &pk);
	want = al_t_unhex("001479091972186c449eb1ded22b78e40d009bdf0089", &len);
	CHECK(w.len == len && memcmp(buf, want, len) == 0);
	al_wb_init(&w, buf, sizeof(buf));
	al_script_push_pubkey(&w, secp, &pk);
	CHECK(w.len == 34 && buf[0] == 33 && memcmp(buf + 1, pkser, 33) == 0);

	/* BIP 141 program bounds: 2..40 bytes, version OP_0 or OP_1..OP_16. */
	memset(buf, 0x33, sizeof(buf));
	buf[0] = AL_OP_16;
	buf[1] = 2;
	CHECK(al_script_is_witness_program(buf, 4, &ver, NULL, &plen) && ver == 16 && plen == 2);
	buf[1] = 40;
	CHECK(al_script_is_witness_program(buf, 42, NULL, NULL, NULL));
	buf[1] = 1;
	CHECK(!al_script_is_witness_program(buf, 3, NULL, NULL, NULL));
	buf[1] = 41;
	CHECK(!al_script_is_witness_program(buf, 43, NULL, NULL, NULL));
	buf[0] = AL_OP_1NEGATE;
	buf[1] = 20;
	CHECK(!al_script_is_witness_program(buf, 22, NULL, NULL, NULL));
	buf[0] = AL_OP_0;
	buf[1] = 21;
	CHECK(!al_script_is_witness_program(buf, 22, NULL, NULL, NULL));
	CHECK(!al_script_is_witness_program(NULL, 0, NULL, NULL, NULL));
}

/* ---- sighash ---- */

static void test_sighash_args(void)
{
	size_t len;
	uint8_t *raw = al_t_unhex(SIGNED_HEX, &len), d[32], d2[32], pre[256];
	static const uint8_t code[] = {AL_OP_CHECKSIG};
	static const uint32_t good[] = {0x01, 0x02, 0x03, 0x81, 0x82, 0x83};
	static const uint32_t bad[] = {0x00, 0x04, 0x80, 0x84, 0x41, 0x101, 0xffffffff};
	al_arena a = fresh_arena(sizeof(arena_mem));
	al_tx tx;
	al_wb w;
	size_t i;

	CHECK_OK(al_tx_parse(&tx, &a, raw, len));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_OK(al_sighash_segwit_v0(d, &tx, 1, code, 1, al_sat_of(1), good[i]));
		al_wb_init(&w, pre, sizeof(pre));
		CHECK_OK(al_sighash_segwit_v0_preimage(&w, &tx, 1, code, 1, al_sat_of(1), good[i]));
		/* 4+32+32+36+(1+1)+8+4+32+4+4 */
		CHECK(al_wb_ok(&w) && w.len == 158);
		al_sha256d(d2, pre, w.len);
		CHECK_MEM(d, d2, 32);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(al_sighash_segwit_v0(d, &tx, 0, code, 1, al_sat_of(1), bad[i]),
		          AL_E_SIGHASH_TYPE);
	CHECK_ERR(al_sighash_segwit_v0(d, &tx, 2, code, 1, al_sat_of(1), AL_SIGHASH_ALL),
	          AL_E_SIGHASH_INPUT);
	al_wb_init(&w, pre, sizeof(pre));
	CHECK_ERR(al_sighash_segwit_v0_preimage(&w, &tx, 5, code, 1, al_sat_of(1), 1),
	          AL_E_SIGHASH_INPUT);
	CHECK(w.len == 0);

	/* SINGLE past the last output commits to zero for hashOutputs (BIP 143), and
	 * the amount is committed to. */
	tx.n_out = 1;
	al_wb_init(&w, pre, sizeof(pre));
	CHECK_OK(
	    al_sighash_segwit_v0_preimage(&w, &tx, 1, code, 1, al_sat_of(1), AL_SIGHASH_SINGLE));
	memset(d, 0, 32);
	CHECK_MEM(pre + 158 - 40, d, 32);
	CHECK_OK(al_sighash_segwit_v0(d, &tx, 1, code, 1, al_sat_of(1), AL_SIGHASH_ALL));
	CHECK_OK(al_sighash_segwit_v0(d2, &tx, 1, code, 1, al_sat_of(2), AL_SIGHASH_ALL));
	CHECK(memcmp(d, d2, 32) != 0);
}

int main(void)
{
	test_parse_known();
	test_truncated_and_trailing();
	test_hostile_counts();
	test_encoding_rules();
	test_arena_exhaustion();
	test_builder();
	test_txid_hex();
	test_script_num();
	test_push_boundaries();
	test_templates();
	test_sighash_args();
	return al_t_finish();
}
