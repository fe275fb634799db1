#include "ln/features.h"

#include <string.h>

struct feature_info {
	unsigned bit; /* the even bit of the pair */
	const char *name;
	int depends; /* even bit of the feature it depends on, or -1 */
};

/* BOLT #9 "Assigned Feature Flags", with the Dependencies column. Bits 20/21
 * (option_anchor_outputs) are kept so that a peer still setting them is understood,
 * though later revisions retired them. */
static const struct feature_info features[] = {
    {AL_FEATURE_DATA_LOSS_PROTECT, "option_data_loss_protect", -1},
    {AL_FEATURE_REQ(AL_FEATURE_INITIAL_ROUTING_SYNC), "initial_routing_sync", -1},
    {AL_FEATURE_UPFRONT_SHUTDOWN_SCRIPT, "option_upfront_shutdown_script", -1},
    {AL_FEATURE_GOSSIP_QUERIES, "gossip_queries", -1},
    {AL_FEATURE_VAR_ONION_OPTIN, "var_onion_optin", -1},
    {AL_FEATURE_GOSSIP_QUERIES_EX, "gossip_queries_ex", AL_FEATURE_GOSSIP_QUERIES},
    {AL_FEATURE_STATIC_REMOTEKEY, "option_static_remotekey", -1},
    {AL_FEATURE_PAYMENT_SECRET, "payment_secret", AL_FEATURE_VAR_ONION_OPTIN},
    {AL_FEATURE_BASIC_MPP, "basic_mpp", AL_FEATURE_PAYMENT_SECRET},
    {AL_FEATURE_LARGE_CHANNEL, "option_support_large_channel", -1},
    {AL_FEATURE_ANCHOR_OUTPUTS, "option_anchor_outputs", AL_FEATURE_STATIC_REMOTEKEY},
    {AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX, "option_anchors_zero_fee_htlc_tx", -1},
    {AL_FEATURE_ROUTE_BLINDING, "option_route_blinding", -1},
    {AL_FEATURE_SHUTDOWN_ANYSEGWIT, "option_shutdown_anysegwit", -1},
    {AL_FEATURE_CHANNEL_TYPE, "option_channel_type", -1},
    {AL_FEATURE_SCID_ALIAS, "option_scid_alias", -1},
    {AL_FEATURE_PAYMENT_METADATA, "option_payment_metadata", -1},
    {AL_FEATURE_ZEROCONF, "option_zeroconf", AL_FEATURE_SCID_ALIAS},
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

void al_features_clear(al_features *f)
{
	memset(f, 0, sizeof(*f));
}

al_err al_features_set(al_features *f, unsigned bit)
{
	if (bit >= AL_FEATURES_MAX_BITS)
		return AL_E_RANGE;
	f->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return AL_OK;
}

bool al_features_has(const al_features *f, unsigned bit)
{
	return bit < AL_FEATURES_MAX_BITS && (f->bits[bit / 8] >> (bit % 8) & 1);
}

bool al_features_offered(const al_features *f, unsigned bit)
{
	return al_features_has(f, AL_FEATURE_REQ(bit)) || al_features_has(f, AL_FEATURE_OPT(bit));
}

bool al_features_required(const al_features *f, unsigned bit)
{
	return al_features_has(f, AL_FEATURE_REQ(bit));
}

static const struct feature_info *find(unsigned bit)
{
	size_t i;

	for (i = 0; i < NFEATURES; i++)
		if (features[i].bit == AL_FEATURE_REQ(bit))
			return &features[i];
	return NULL;
}

const char *al_feature_name(unsigned bit)
{
	const struct feature_info *fi = find(bit);

	/* BOLT #9: "There is no _even_ bit for `initial_routing_sync`". */
	if (!fi || bit == AL_FEATURE_REQ(AL_FEATURE_INITIAL_ROUTING_SYNC))
		return NULL;
	return fi->name;
}

al_err al_features_merge_wire(al_features *f, unsigned *bad, const uint8_t *v, size_t len)
{
	size_t i, bit;
	unsigned k;

	for (i = 0; i < len; i++) {
		/* Byte i from the end holds bits 8i .. 8i + 7. */
		uint8_t b = v[len - 1 - i];

		for (k = 0; k < 8 && b; k++, b >>= 1) {
			if (!(b & 1))
				continue;
			bit = i * 8 + k;
			if (bit < AL_FEATURES_MAX_BITS) {
				f->bits[bit / 8] |= (uint8_t)(1u << k);
			} else if (bit % 2 == 0) {
				if (bad)
					*bad = (unsigned)bit;
				return AL_E_WIRE_FEATURES;
			}
			/* BOLT #1: "upon receiving unknown _odd_ feature bits that are
			 * non-zero: MUST ignore the bit." */
		}
	}
	return AL_OK;
}

size_t al_features_wire_len(const al_features *f)
{
	size_t n = sizeof(f->bits);

	while (n > 0 && f->bits[n - 1] == 0)
		n--;
	return n;
}

al_err al_features_to_wire(uint8_t *out, size_t len, const al_features *f)
{
	size_t need = al_features_wire_len(f), i;

	if (len < need)
		return AL_E_BUFSIZE;
	if (len > 0)
		memset(out, 0, len);
	for (i = 0; i < need; i++)
		out[len - 1 - i] = f->bits[i];
	return AL_OK;
}

al_err al_features_check_deps(unsigned *feature, unsigned *depends, const al_features *f)
{
	size_t i;

	for (i = 0; i < NFEATURES; i++) {
		const struct feature_info *fi = &features[i];

		if (fi->depends < 0 || !al_features_offered(f, fi->bit))
			continue;
		if (al_features_offered(f, (unsigned)fi->depends))
			continue;
		if (feature)
			*feature = fi->bit;
		if (depends)
			*depends = (unsigned)fi->depends;
		return AL_E_WIRE_FEATURE_DEPS;
	}
	return AL_OK;
}

al_err al_features_negotiate(al_features *negotiated, unsigned *bad, const al_features *local,
                             const al_features *remote)
{
	unsigned bit;
	al_err err;

	al_features_clear(negotiated);
	for (bit = 0; bit < AL_FEATURES_MAX_BITS; bit += 2) {
		if (!al_features_has(remote, bit))
			continue;
		/* Bit 2 is unknown even when we offer initial_routing_sync (bit 3). */
		if (!al_features_offered(local, bit) ||
		    bit == AL_FEATURE_REQ(AL_FEATURE_INITIAL_ROUTING_SYNC)) {
			if (bad)
				*bad = bit;
			return AL_E_WIRE_FEATURES;
		}
	}
	err = al_features_check_deps(bad, NULL, remote);
	if (err != AL_OK)
		return err;
	for (bit = 0; bit < AL_FEATURES_MAX_BITS; bit += 2) {
		bool both = al_features_offered(local, bit) && al_features_offered(remote, bit);
		bool req = al_features_required(local, bit) || al_features_required(remote, bit);

		if (!both && !al_features_required(local, bit))
			continue;
		negotiated->bits[bit / 8] |= (uint8_t)(1u << (bit % 8 + (req ? 0 : 1)));
	}
	return AL_OK;
}
