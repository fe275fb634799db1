#include "ln/route.h"

#include <string.h>

#include "ln/payload.h"
#include "util/mem.h"

al_err al_route_fee(uint64_t *fee, uint64_t amount_msat, uint32_t base, uint32_t ppm)
{
	*fee = 0;
	if (ppm != 0 && amount_msat > UINT64_MAX / ppm)
		return AL_E_RANGE;
	*fee = base + amount_msat * ppm / 1000000;
	return AL_OK;
}

al_err al_route_compute(al_route *r, const al_route_hop *hops, size_t n, uint64_t amount_msat,
                        uint32_t final_cltv, uint32_t height)
{
	uint64_t amt = amount_msat, fee, cltv = final_cltv;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n > AL_ONION_MAX_HOPS)
		return AL_E_ONION_HOPS;
	/* From the payee back: the HTLC into hop i - 1 carries what hop i's HTLC does
	 * plus the fee node i - 1 charges for the channel into hop i, and expires that
	 * channel's cltv_expiry_delta later. */
	for (i = n; i-- > 0;) {
		r->hops[i] = hops[i];
		r->amount_msat[i] = amt;
		r->cltv_expiry[i] = (uint32_t)cltv;
		if (i == 0)
			break;
		AL_TRY(al_route_fee(&fee, amt, hops[i].fee_base_msat,
		                    hops[i].fee_proportional_millionths));
		if (amt > UINT64_MAX - fee)
			return AL_E_RANGE;
		amt += fee;
		cltv += hops[i].cltv_expiry_delta;
		if (cltv > UINT32_MAX)
			return AL_E_ROUTE_CLTV;
	}
	if (cltv > (uint64_t)height + AL_ROUTE_MAX_CLTV) {
		memset(r, 0, sizeof(*r));
		return AL_E_ROUTE_CLTV;
	}
	r->n = n;
	r->fee_msat = r->amount_msat[0] - r->amount_msat[n - 1];
	return AL_OK;
}

al_err al_route_from_invoice(al_route_hop *hops, size_t *n, const al_invoice *inv, size_t hint,
                             uint64_t scid, const uint8_t peer[AL_PUBKEY_LEN])
{
	const al_invoice_route *rt;
	size_t k;

	*n = 0;
	memset(&hops[0], 0, sizeof(hops[0]));
	memcpy(hops[0].node_id, peer, AL_PUBKEY_LEN);
	hops[0].scid = scid;
	if (memcmp(peer, inv->payee, AL_PUBKEY_LEN) == 0) {
		*n = 1;
		return AL_OK;
	}
	if (hint >= inv->n_routes)
		return AL_E_ROUTE_NO_PATH;
	rt = &inv->routes[hint];
	/* BOLT #11: "the `pubkey` is the node ID of the start of the channel": the hint
	 * starts at our peer and ends at the payee. */
	if (rt->count == 0 || memcmp(inv->hops[rt->first].pubkey, peer, AL_PUBKEY_LEN) != 0)
		return AL_E_ROUTE_NO_PATH;
	if (rt->count + 1 > AL_ONION_MAX_HOPS)
		return AL_E_ONION_HOPS;
	for (k = 0; k < rt->count; k++) {
		const al_invoice_hop *h = &inv->hops[rt->first + k];
		al_route_hop *o = &hops[k + 1];

		/* The channel out of h's node goes to the next hint's node, or the payee. */
		memcpy(o->node_id,
		       k + 1 < rt->count ? inv->hops[rt->first + k + 1].pubkey : inv->payee,
		       AL_PUBKEY_LEN);
		o->scid = h->scid;
		o->fee_base_msat = h->fee_base_msat;
		o->fee_proportional_millionths = h->fee_proportional_millionths;
		o->cltv_expiry_delta = h->cltv_expiry_delta;
	}
	*n = rt->count + 1;
	return AL_OK;
}

al_err al_route_onion(uint8_t packet[AL_ONION_LEN], uint8_t (*secrets)[32], const al_secp *secp,
                      const al_privkey *session_key, const al_route *r,
                      const uint8_t payment_hash[32], const uint8_t payment_secret[32],
                      uint64_t total_msat, const uint8_t *metadata, size_t metadata_len)
{
	/* Every payload shares the 1300 bytes of the packet, so one buffer that size. */
	uint8_t buf[AL_ONION_HOP_PAYLOADS_LEN];
	size_t used = 0;
	al_onion_hop oh[AL_ONION_MAX_HOPS];
	al_hop_payload p;
	size_t i, len;
	al_err err = AL_OK;

	memset(packet, 0, AL_ONION_LEN);
	if (r->n == 0 || r->n > AL_ONION_MAX_HOPS)
		return AL_E_ONION_HOPS;
	for (i = 0; i < r->n && err == AL_OK; i++) {
		bool final = i == r->n - 1;

		memset(&p, 0, sizeof(p));
		err = al_pubkey_parse(secp, &oh[i].node, r->hops[i].node_id, AL_PUBKEY_LEN);
		/* BOLT #4: a non-final hop's payload names the next channel and what its
		 * HTLC must carry; the final one carries the payment's secret and total. */
		p.amt_to_forward = final ? r->amount_msat[i] : r->amount_msat[i + 1];
		p.outgoing_cltv_value = final ? r->cltv_expiry[i] : r->cltv_expiry[i + 1];
		if (!final) {
			p.has_scid = true;
			p.short_channel_id = r->hops[i + 1].scid;
		} else {
			p.has_payment_data = true;
			memcpy(p.payment_secret, payment_secret, 32);
			p.total_msat = total_msat;
			p.metadata = metadata;
			p.metadata_len = metadata_len;
		}
		if (err == AL_OK)
			err = al_hop_payload_encode(buf + used, sizeof(buf) - used, &len, &p);
		if (err == AL_E_BUFSIZE)
			err = AL_E_ONION_TOO_LONG;
		oh[i].payload = buf + used;
		oh[i].payload_len = len;
		used += err == AL_OK ? len : 0;
	}
	if (err == AL_OK)
		err =
		    al_onion_create(packet, secrets, secp, session_key, oh, r->n, payment_hash, 32);
	al_memzero(buf, sizeof(buf));
	al_memzero(&p, sizeof(p));
	return err;
}
