/* BIP 125 rules (src/chain/rbf.h) in Bitcoin Core v25's order and arithmetic.
 *
 * Feerate cases are those of Core's policy_fee_tests.cpp (CFeeRate(123).GetFee(n) rounds
 * up, with 1 sat for a positive rate and size; CFeeRate(26, 789) == CFeeRate(32)); the
 * rule boundaries follow policy/rbf.cpp (a replacement feerate equal to the old one fails
 * "<=", an additional fee equal to the incremental relay fee passes). The end-to-end
 * messages are checked against Electrum-signed transactions in
 * tests/py/test_devchain_rbf.py. */
#include <string.h>

#include "chain/rbf.h"
#include "test.h"

static _Alignas(16) uint8_t mem[16384];

/* A transaction spending (txid byte `a`, vout 0) and (txid byte `b`, vout 0). */
static void make_tx(al_tx *tx, al_arena *a, uint8_t in1, uint8_t in2, uint32_t seq)
{
	static const uint8_t spk[22] = {0x00, 0x14};
	uint8_t id[32];

	CHECK_OK(al_tx_init(tx, a, 2, 0, 2, 1));
	memset(id, in1, 32);
	CHECK_OK(al_tx_add_input(tx, id, 0, 0xffffffff));
	if (in2) {
		memset(id, in2, 32);
		CHECK_OK(al_tx_add_input(tx, id, 0, seq));
	}
	CHECK_OK(al_tx_add_output(tx, al_sat_of(10000), spk, sizeof(spk)));
}

static void test_signals(void)
{
	al_arena a;
	al_tx tx;

	al_arena_init(&a, mem, sizeof(mem));
	make_tx(&tx, &a, 1, 2, 0xfffffffd);
	CHECK(al_rbf_signals(&tx)); /* any one input is enough */
	make_tx(&tx, &a, 1, 2, 0xfffffffe);
	CHECK(!al_rbf_signals(&tx));
	make_tx(&tx, &a, 1, 2, 0);
	CHECK(al_rbf_signals(&tx));
	make_tx(&tx, &a, 1, 0, 0);
	CHECK(!al_rbf_signals(&tx)); /* the only input is final (0xffffffff) */
}

static void test_feerates(void)
{
	CHECK(al_feerate_of(al_sat_of(26), 789) == 32);
	CHECK(al_feerate_of(al_sat_of(27), 789) == 34);
	CHECK(al_feerate_of(al_sat_of(1000), 141) == 7092);
	CHECK(al_feerate_of(al_sat_of(1000), 0) == 0);
	CHECK(al_feerate_of(al_sat_of(2100000000000000ULL), 1) == 2100000000000000000ULL);
	CHECK(al_feerate_fee(123, 0) == 0);
	CHECK(al_feerate_fee(123, 8) == 1);
	CHECK(al_feerate_fee(123, 9) == 2);
	CHECK(al_feerate_fee(123, 121) == 15);
	CHECK(al_feerate_fee(123, 122) == 16);
	CHECK(al_feerate_fee(123, 999) == 123);
	CHECK(al_feerate_fee(123, 9000) == 1107);
	CHECK(al_feerate_fee(1000, 141) == 141);
	CHECK(al_feerate_fee(0, 141) == 0);
	CHECK(al_feerate_fee(UINT64_MAX, 2) == UINT64_MAX);
}

static bool pool_has_aa(void *arg, const uint8_t txid[32])
{
	(void)arg;
	return txid[0] == 0xaa;
}

static bool pool_empty(void *arg, const uint8_t txid[32])
{
	(void)arg;
	(void)txid;
	return false;
}

static void test_order_and_boundaries(void)
{
	al_arena a;
	al_tx orig, repl, adds;
	al_rbf_conflict d[2];
	al_rbf_result r;

	al_arena_init(&a, mem, sizeof(mem));
	make_tx(&orig, &a, 1, 0, 0);
	make_tx(&repl, &a, 1, 0, 0);
	make_tx(&adds, &a, 1, 0xaa, 0);
	d[0] = (al_rbf_conflict){&orig, al_sat_of(1000), 100, 1};

	/* Rule 6: equal feerate fails, one sat/kvB more passes it. */
	CHECK_ERR(
	    al_rbf_check(&repl, al_sat_of(1000), 100, d, 1, al_sat_of(1000), pool_empty, NULL, &r),
	    AL_E_TXV_RBF_FEERATE);
	CHECK(r.new_feerate == 10000 && r.old_feerate == 10000 && r.conflict == 0);
	/* Rule 4 boundary: 100 vB need 100 sat more than what is replaced. */
	CHECK_ERR(
	    al_rbf_check(&repl, al_sat_of(1099), 100, d, 1, al_sat_of(1000), pool_empty, NULL, &r),
	    AL_E_TXV_RBF_RELAY_FEE);
	CHECK(r.additional.sat == 99 && r.min_additional.sat == 100);
	CHECK_OK(
	    al_rbf_check(&repl, al_sat_of(1100), 100, d, 1, al_sat_of(1000), pool_empty, NULL, &r));
	/* Rule 3 counts the descendants' fees (replaced_fee), not only the direct conflict. */
	CHECK_ERR(
	    al_rbf_check(&repl, al_sat_of(1100), 50, d, 1, al_sat_of(5000), pool_empty, NULL, &r),
	    AL_E_TXV_RBF_LESS_FEES);
	CHECK(r.fee.sat == 1100 && r.replaced_fee.sat == 5000);

	/* Rule 5: counts add up over the direct conflicts; 100 passes, 101 fails. */
	d[0].count_with_descendants = 60;
	d[1] = (al_rbf_conflict){&orig, al_sat_of(10), 100, 40};
	CHECK_OK(
	    al_rbf_check(&repl, al_sat_of(9000), 100, d, 2, al_sat_of(1000), pool_empty, NULL, &r));
	d[1].count_with_descendants = 41;
	CHECK_ERR(
	    al_rbf_check(&repl, al_sat_of(9000), 100, d, 2, al_sat_of(1000), pool_empty, NULL, &r),
	    AL_E_TXV_RBF_TOO_MANY);
	CHECK(r.count == 101);
	/* ...but rule 6 is checked before rule 5. */
	CHECK_ERR(
	    al_rbf_check(&repl, al_sat_of(500), 100, d, 2, al_sat_of(1000), pool_empty, NULL, &r),
	    AL_E_TXV_RBF_FEERATE);
	d[1].count_with_descendants = 1;

	/* Rule 2: input 1 comes from a mempool transaction (0xaa...) that no direct conflict
	 * spends from; checked before rules 3 and 4. */
	CHECK_ERR(
	    al_rbf_check(&adds, al_sat_of(1001), 10, d, 1, al_sat_of(99999), pool_has_aa, NULL, &r),
	    AL_E_TXV_RBF_UNCONFIRMED);
	CHECK(r.input == 1);
	/* The same input is fine when a direct conflict spends from that transaction too. */
	d[0].tx = &adds;
	CHECK_OK(al_rbf_check(&adds, al_sat_of(2000), 100, d, 1, al_sat_of(1000), pool_has_aa, NULL,
	                      &r));
	CHECK_ERR(
	    al_rbf_check(&adds, al_sat_of(2000), 100, d, 0, al_sat_of(1000), pool_has_aa, NULL, &r),
	    AL_E_ARG);
}

int main(void)
{
	test_signals();
	test_feerates();
	test_order_and_boundaries();
	return al_t_finish();
}
