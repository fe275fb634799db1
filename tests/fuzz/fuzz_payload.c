/* Fuzz BOLT 4 hop payloads: the first byte's low bit says final or forward, the rest
 * is the payload. Whatever decodes must encode and decode again to the same fields
 * (unknown odd records, which the writer drops, aside), in no more bytes than it came
 * in (the writer is canonical, as the reader demands); a refusal names a type only
 * when a record is at fault. */
#include <stdlib.h>
#include <string.h>

#include "ln/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[2048];
	al_hop_payload p, q;
	size_t len;
	bool final;

	if (size < 1)
		return 0;
	final = data[0] & 1;
	if (al_hop_payload_decode(&p, data + 1, size - 1, final) != AL_OK) {
		if (p.amt_to_forward || p.has_scid || p.has_payment_data || p.metadata_len)
			abort();
		return 0;
	}
	if (p.metadata_len && (p.metadata < data + 1 || p.metadata + p.metadata_len > data + size))
		abort();
	if (al_hop_payload_encode(buf, sizeof(buf), &len, &p) != AL_OK || len > size - 1 ||
	    al_hop_payload_decode(&q, buf, len, final) != AL_OK)
		abort();
	if (q.amt_to_forward != p.amt_to_forward ||
	    q.outgoing_cltv_value != p.outgoing_cltv_value || q.has_scid != p.has_scid ||
	    q.short_channel_id != p.short_channel_id || q.has_payment_data != p.has_payment_data ||
	    q.total_msat != p.total_msat || memcmp(q.payment_secret, p.payment_secret, 32) != 0 ||
	    q.metadata_len != p.metadata_len ||
	    (p.metadata_len && memcmp(q.metadata, p.metadata, p.metadata_len) != 0) ||
	    q.has_keysend != p.has_keysend ||
	    memcmp(q.keysend_preimage, p.keysend_preimage, 32) != 0)
		abort();
	return 0;
}
