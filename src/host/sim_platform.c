/* Loading the simulated platform (host/sim_platform.h). */
#include "host/sim_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

/* The whole file, NUL-terminated (not counted); NULL if it cannot be read. */
static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf = NULL;
	FILE *f;
	long n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return NULL;
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = 0;
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void free_secret(uint8_t *p, size_t len)
{
	if (p)
		al_memzero(p, len);
	free(p);
}

const char *al_sim_platform_dir(const char *dir)
{
	const char *env = getenv("ALIGHT_SIM_DIR");

	if (dir && dir[0])
		return dir;
	return env && env[0] ? env : NULL;
}

al_err al_sim_platform_load(al_sim_platform *p, const char *dir)
{
	size_t akl = 0, pkl = 0, sl = 0;
	uint8_t *ak, *pk, *signer;
	al_err err = AL_E_HOST_IO;

	memset(p, 0, sizeof(*p));
	dir = al_sim_platform_dir(dir);
	if (!dir)
		return AL_E_ARG;
	ak = read_file(dir, "attest_key.pem", &akl);
	pk = read_file(dir, "pck.key", &pkl);
	p->chain = read_file(dir, "pck_chain.pem", &p->chain_len);
	p->collateral = read_file(dir, "collateral.json", &p->collateral_len);
	p->root = read_file(dir, "root.pem", &p->root_len);
	signer = read_file(dir, "enclave_signer.pem", &sl);
	if (ak && pk && p->chain && p->collateral && p->root && signer)
		err = al_sim_mrsigner(p->mrsigner, signer, sl);
	if (!err)
		err = al_sim_qe_init(&p->qe, ak, akl, pk, pkl, p->chain, p->chain_len);
	free(signer);
	free_secret(ak, akl);
	free_secret(pk, pkl);
	if (err)
		al_sim_platform_free(p);
	return err;
}

void al_sim_platform_free(al_sim_platform *p)
{
	al_sim_qe_clear(&p->qe);
	free(p->chain);
	free(p->collateral);
	free(p->root);
	memset(p, 0, sizeof(*p));
}

void al_sim_platform_enclave(const al_sim_platform *p, al_sim_enclave *enc,
                             const uint8_t measurement[32])
{
	memset(enc, 0, sizeof(*enc));
	memcpy(enc->mrenclave, measurement, 32);
	memcpy(enc->mrsigner, p->mrsigner, 32);
	enc->isvprodid = AL_SIM_ENCLAVE_PRODID;
	enc->isvsvn = AL_SIM_ENCLAVE_SVN;
}
