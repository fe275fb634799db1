/* BOLT #9 feature bits (ln/features.h): wire bit order, required and optional bits,
 * dependencies, negotiation and unknown even bits. */
#include <string.h>

#include "ln/features.h"
#include "test.h"

static al_features make(const unsigned *bits, size_t n)
{
	al_features f;
	size_t i;

	al_features_clear(&f);
	for (i = 0; i < n; i++)
		CHECK_OK(al_features_set(&f, bits[i]));
	return f;
}

static void test_bit_order(void)
{
	static const unsigned bits[] = {0, 9, 15, 17};
	al_features f = make(bits, 4), g;
	uint8_t out[8];
	unsigned bad = 0;

	/* BOLT #9: "Flags are numbered from the least-significant bit, at bit 0 (i.e.
	 * 0x1, an _even_ bit)": in the big-endian wire form bit 0 is the last byte's
	 * 0x01 and bit 17 the first byte's 0x02. */
	CHECK(al_features_wire_len(&f) == 3);
	CHECK_OK(al_features_to_wire(out, 3, &f));
	CHECK_MEM(out, "\x02\x82\x01", 3);
	/* Longer buffers are zero-padded at the front; shorter ones refused. */
	CHECK_OK(al_features_to_wire(out, 5, &f));
	CHECK_MEM(out, "\x00\x00\x02\x82\x01", 5);
	CHECK_ERR(al_features_to_wire(out, 2, &f), AL_E_BUFSIZE);

	al_features_clear(&g);
	CHECK_OK(al_features_merge_wire(&g, &bad, out, 5));
	CHECK(memcmp(&f, &g, sizeof(f)) == 0);
	CHECK(al_features_has(&g, 17) && !al_features_has(&g, 16) && al_features_has(&g, 0));

	al_features_clear(&g);
	CHECK(al_features_wire_len(&g) == 0);
	CHECK_OK(al_features_to_wire(out, 0, &g));
	CHECK_ERR(al_features_set(&g, AL_FEATURES_MAX_BITS), AL_E_RANGE);
	CHECK_OK(al_features_set(&g, AL_FEATURES_MAX_BITS - 1));
	CHECK(al_features_wire_len(&g) == AL_FEATURES_MAX_BITS / 8);
	CHECK(!al_features_has(&g, AL_FEATURES_MAX_BITS));
}

static void test_merge_limits(void)
{
	uint8_t v[40];
	al_features f;
	unsigned bad = 0;

	/* Bits beyond what we hold: odd ones are ignored, even ones refused. */
	memset(v, 0, sizeof(v));
	v[0] = 0x02; /* bit 8 * 39 + 1 = 313 */
	al_features_clear(&f);
	CHECK_OK(al_features_merge_wire(&f, &bad, v, sizeof(v)));
	CHECK(al_features_wire_len(&f) == 0);
	v[0] = 0x04; /* bit 314 */
	CHECK_ERR(al_features_merge_wire(&f, &bad, v, sizeof(v)), AL_E_WIRE_FEATURES);
	CHECK(bad == 314);
	CHECK_ERR(al_features_merge_wire(&f, NULL, v, sizeof(v)), AL_E_WIRE_FEATURES);
	/* The empty vector */
	CHECK_OK(al_features_merge_wire(&f, &bad, NULL, 0));
}

static void test_required_optional(void)
{
	static const unsigned bits[] = {AL_FEATURE_REQ(AL_FEATURE_STATIC_REMOTEKEY),
	                                AL_FEATURE_OPT(AL_FEATURE_VAR_ONION_OPTIN)};
	al_features f = make(bits, 2);

	CHECK(AL_FEATURE_OPT(AL_FEATURE_PAYMENT_SECRET) == 15);
	CHECK(AL_FEATURE_REQ(15) == 14 && AL_FEATURE_OPT(15) == 15);
	CHECK(al_features_offered(&f, 12) && al_features_offered(&f, 13));
	CHECK(al_features_required(&f, 13) && al_features_required(&f, 12));
	CHECK(al_features_offered(&f, 8) && !al_features_required(&f, 8));
	CHECK(!al_features_offered(&f, AL_FEATURE_BASIC_MPP));
	CHECK(strcmp(al_feature_name(23), "option_anchors_zero_fee_htlc_tx") == 0);
	CHECK(strcmp(al_feature_name(50), "option_zeroconf") == 0);
	CHECK(strcmp(al_feature_name(3), "initial_routing_sync") == 0);
	CHECK(al_feature_name(2) == NULL && al_feature_name(30) == NULL);
}

static void test_dependencies(void)
{
	static const unsigned mpp_only[] = {17, 15};
	static const unsigned full[] = {17, 15, 9};
	static const unsigned zeroconf[] = {50};
	static const unsigned gossip[] = {11, 6};
	al_features f;
	unsigned feat = 0, dep = 0;

	f = make(mpp_only, 2);
	/* basic_mpp -> payment_secret -> var_onion_optin: the second link is missing */
	CHECK_ERR(al_features_check_deps(&feat, &dep, &f), AL_E_WIRE_FEATURE_DEPS);
	CHECK(feat == AL_FEATURE_PAYMENT_SECRET && dep == AL_FEATURE_VAR_ONION_OPTIN);
	f = make(full, 3);
	CHECK_OK(al_features_check_deps(&feat, &dep, &f));
	f = make(zeroconf, 1);
	CHECK_ERR(al_features_check_deps(NULL, NULL, &f), AL_E_WIRE_FEATURE_DEPS);
	/* Either bit of the dependency will do. */
	f = make(gossip, 2);
	CHECK_OK(al_features_check_deps(NULL, NULL, &f));
}

static void test_negotiation(void)
{
	/* local: data_loss_protect required, var_onion optional, static_remotekey
	 * optional, payment_secret optional, anchors optional, scid_alias optional */
	static const unsigned local_bits[] = {0, 9, 13, 15, 23, 47};
	static const unsigned remote_bits[] = {1, 8, 13, 23, 51, 47};
	static const unsigned remote_unknown[] = {1, 9, 24};
	static const unsigned remote_deps[] = {1, 9, 15, 17};
	static const unsigned remote_broken[] = {15, 17};
	static const unsigned remote_bit2[] = {2};
	al_features local = make(local_bits, 6), remote = make(remote_bits, 6), neg;
	unsigned bad = 0;

	CHECK_OK(al_features_negotiate(&neg, &bad, &local, &remote));
	/* "negotiated if either both peers offered it, or the local node offered it as
	 * even" */
	CHECK(al_features_required(&neg, AL_FEATURE_DATA_LOSS_PROTECT)); /* ours even */
	CHECK(al_features_required(&neg, AL_FEATURE_VAR_ONION_OPTIN));   /* theirs even */
	CHECK(al_features_offered(&neg, AL_FEATURE_STATIC_REMOTEKEY));   /* both odd */
	CHECK(!al_features_required(&neg, AL_FEATURE_STATIC_REMOTEKEY));
	CHECK(al_features_offered(&neg, AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX));
	CHECK(!al_features_offered(&neg, AL_FEATURE_PAYMENT_SECRET)); /* only ours */
	CHECK(!al_features_offered(&neg, AL_FEATURE_ZEROCONF));       /* only theirs, odd */
	CHECK(al_features_offered(&neg, AL_FEATURE_SCID_ALIAS));

	/* "upon receiving unknown _even_ feature bits that are non-zero: MUST close the
	 * connection" (route blinding, bit 24, which we do not offer) */
	remote = make(remote_unknown, 3);
	CHECK_ERR(al_features_negotiate(&neg, &bad, &local, &remote), AL_E_WIRE_FEATURES);
	CHECK(bad == 24);
	/* Unknown odd bits are ignored. */
	remote = make(remote_deps, 4);
	CHECK_OK(al_features_set(&remote, 201));
	CHECK_OK(al_features_negotiate(&neg, &bad, &local, &remote));
	CHECK(!al_features_offered(&neg, 201) && !al_features_offered(&neg, AL_FEATURE_BASIC_MPP));
	/* "if the feature vector does not set all known, transitive dependencies: MUST
	 * close the connection" (basic_mpp and payment_secret without var_onion_optin) */
	remote = make(remote_broken, 2);
	CHECK_ERR(al_features_negotiate(&neg, &bad, &local, &remote), AL_E_WIRE_FEATURE_DEPS);
	CHECK(bad == AL_FEATURE_PAYMENT_SECRET);
	/* Bit 2 has no feature even though we offer initial_routing_sync (bit 3). */
	CHECK_OK(al_features_set(&local, 3));
	remote = make(remote_bit2, 1);
	CHECK_ERR(al_features_negotiate(&neg, &bad, &local, &remote), AL_E_WIRE_FEATURES);
	CHECK(bad == 2);
}

int main(void)
{
	test_bit_order();
	test_merge_limits();
	test_required_optional();
	test_dependencies();
	test_negotiation();
	return al_t_finish();
}
