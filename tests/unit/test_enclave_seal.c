/* Simulated sealing (src/enclave/seal_sim.h): a round trip, then each way a blob must
 * fail, for its precise reason: another measurement, another platform, another
 * label, a flipped byte anywhere, truncation, a forged measurement field. */
#include <string.h>

#include "enclave/seal_sim.h"
#include "test.h"

int main(void)
{
	uint8_t secret[32], other[32], m1[32], m2[32], nonce[12] = {1, 2, 3};
	uint8_t pt[40], blob[40 + AL_SEALSIM_OVERHEAD], out[64], bad[sizeof(blob)];
	size_t blen, olen;
	al_sealsim a, b, c;

	memset(secret, 0x11, 32);
	memset(other, 0x22, 32);
	memset(m1, 0xA1, 32);
	memset(m2, 0xA2, 32);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	al_sealsim_init(&a, secret, m1);
	al_sealsim_init(&b, secret, m2); /* another image on the same platform */
	al_sealsim_init(&c, other, m1);  /* the same image on another platform */

	CHECK_ERR(al_sealsim_seal(&a, blob, sizeof(blob) - 1, &blen, "k", nonce, pt, sizeof(pt)),
	          AL_E_BUFSIZE);
	CHECK_OK(al_sealsim_seal(&a, blob, sizeof(blob), &blen, "k", nonce, pt, sizeof(pt)));
	CHECK(blen == sizeof(blob) && memcmp(blob, "ASL1", 4) == 0);
	CHECK_MEM(blob + 4, m1, 32); /* the measurement is bound, in the clear */
	CHECK_OK(al_sealsim_unseal(&a, out, sizeof(out), &olen, "k", blob, blen));
	CHECK(olen == sizeof(pt));
	CHECK_MEM(out, pt, sizeof(pt));

	CHECK_ERR(al_sealsim_unseal(&b, out, sizeof(out), &olen, "k", blob, blen),
	          AL_E_SEAL_MEASUREMENT);
	CHECK_ERR(al_sealsim_unseal(&c, out, sizeof(out), &olen, "k", blob, blen), AL_E_SEAL_AUTH);
	CHECK_ERR(al_sealsim_unseal(&a, out, sizeof(out), &olen, "K", blob, blen), AL_E_SEAL_AUTH);
	CHECK_ERR(
	    al_sealsim_unseal(&a, out, sizeof(out), &olen, "k", blob, AL_SEALSIM_OVERHEAD - 1),
	    AL_E_SEAL_FORMAT);
	CHECK_ERR(al_sealsim_unseal(&a, out, 10, &olen, "k", blob, blen), AL_E_BUFSIZE);
	/* Rewriting the measurement field to image b's does not let b read it. */
	memcpy(bad, blob, blen);
	memcpy(bad + 4, m2, 32);
	CHECK_ERR(al_sealsim_unseal(&b, out, sizeof(out), &olen, "k", bad, blen), AL_E_SEAL_AUTH);
	/* Every single-byte change is caught, for the reason of the field it hits. */
	int wrong = 0;
	for (size_t i = 0; i < blen; i++) {
		memcpy(bad, blob, blen);
		bad[i] ^= 0x01;
		al_err want = i < 4    ? AL_E_SEAL_FORMAT
		              : i < 36 ? AL_E_SEAL_MEASUREMENT
		                       : AL_E_SEAL_AUTH;
		wrong += al_sealsim_unseal(&a, out, sizeof(out), &olen, "k", bad, blen) != want;
	}
	CHECK(wrong == 0);
	al_sealsim_clear(&a);
	uint8_t zero[32] = {0};
	CHECK_MEM(a.platform_secret, zero, 32);
	return al_t_finish();
}
