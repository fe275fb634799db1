#include "enclave/seal_sim.h"

#include <string.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "util/mem.h"

static const uint8_t magic[AL_SEALSIM_MAGIC_LEN] = {'A', 'S', 'L', '1'};
static const char salt[] = "alight/sim-seal/v1";

void al_sealsim_init(al_sealsim *s, const uint8_t platform_secret[32],
                     const uint8_t measurement[32])
{
	memcpy(s->platform_secret, platform_secret, 32);
	memcpy(s->measurement, measurement, 32);
}

void al_sealsim_clear(al_sealsim *s)
{
	al_memzero(s, sizeof(*s));
}

/* HKDF(platform secret, info = measurement || label): EGETKEY's MRENCLAVE policy. */
static al_err derive(const al_sealsim *s, uint8_t key[32], const char *label)
{
	uint8_t info[32 + 255];
	size_t ll = strlen(label);
	if (ll > 255)
		return AL_E_ARG;
	memcpy(info, s->measurement, 32);
	memcpy(info + 32, label, ll);
	return al_hkdf_sha256(key, 32, salt, sizeof(salt) - 1, s->platform_secret, 32, info,
	                      32 + ll);
}

al_err al_sealsim_seal(const al_sealsim *s, uint8_t *out, size_t cap, size_t *outlen,
                       const char *label, const uint8_t nonce[12], const uint8_t *pt, size_t len)
{
	uint8_t key[32];
	*outlen = 0;
	if (len > SIZE_MAX - AL_SEALSIM_OVERHEAD || cap < len + AL_SEALSIM_OVERHEAD)
		return AL_E_BUFSIZE;
	AL_TRY(derive(s, key, label));
	memcpy(out, magic, sizeof(magic));
	memcpy(out + AL_SEALSIM_MAGIC_LEN, s->measurement, 32);
	memcpy(out + AL_SEALSIM_MAGIC_LEN + 32, nonce, AL_SEALSIM_NONCE_LEN);
	al_err e = al_aead_seal(out + AL_SEALSIM_HEADER_LEN, key, nonce, out, AL_SEALSIM_HEADER_LEN,
	                        pt, len);
	al_memzero(key, sizeof(key));
	if (e == AL_OK)
		*outlen = len + AL_SEALSIM_OVERHEAD;
	return e;
}

al_err al_sealsim_unseal(const al_sealsim *s, uint8_t *out, size_t cap, size_t *outlen,
                         const char *label, const uint8_t *blob, size_t len)
{
	uint8_t key[32];
	*outlen = 0;
	if (len < AL_SEALSIM_OVERHEAD || memcmp(blob, magic, sizeof(magic)) != 0)
		return AL_E_SEAL_FORMAT;
	if (cap < len - AL_SEALSIM_OVERHEAD)
		return AL_E_BUFSIZE;
	/* The measurement is public; comparing it in variable time leaks nothing. */
	if (memcmp(blob + AL_SEALSIM_MAGIC_LEN, s->measurement, 32) != 0)
		return AL_E_SEAL_MEASUREMENT;
	AL_TRY(derive(s, key, label));
	al_err e =
	    al_aead_open(out, key, blob + AL_SEALSIM_MAGIC_LEN + 32, blob, AL_SEALSIM_HEADER_LEN,
	                 blob + AL_SEALSIM_HEADER_LEN, len - AL_SEALSIM_HEADER_LEN);
	al_memzero(key, sizeof(key));
	if (e == AL_E_AEAD_AUTH)
		return AL_E_SEAL_AUTH;
	if (e == AL_OK)
		*outlen = len - AL_SEALSIM_OVERHEAD;
	return e;
}
