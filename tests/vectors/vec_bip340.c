/* BIP 340 test vectors (bips/bip340-test-vectors.csv, verbatim), suite `bip340`:
 * the 19 rows, one vector each.
 *
 * A row with a secret key must reproduce the stated public key and, with the stated
 * aux_rand, exactly the stated signature (messages of 0, 1, 17 and 100 bytes go
 * through al_schnorr_sign's length argument). Every row must verify as stated.
 * A FALSE row fails for its stated reason where the API can tell: a public key that
 * is not an X coordinate on the curve ("public key not on the curve", "exceeds the
 * field size") is refused by al_xonly_parse with AL_E_PUBKEY; every other FALSE row
 * parses and fails al_schnorr_verify with AL_E_SIG_INVALID. */
#include <stdlib.h>
#include <string.h>

#include "crypto/secp.h"
#include "test.h"
#include "vectors.h"

#define NCOLS 8

typedef struct row {
	char *col[NCOLS]; /* index, secret key, public key, aux_rand, message, signature,
	                     verification result, comment */
} row;

/* Split a line on its first seven commas (the comment may hold anything). */
static bool split(row *r, char *line)
{
	int i;

	for (i = 0; i < NCOLS - 1; i++) {
		char *c = strchr(line, ',');
		if (!c)
			return false;
		*c = '\0';
		r->col[i] = line;
		line = c + 1;
	}
	r->col[NCOLS - 1] = line;
	return true;
}

static const uint8_t *unhex(const char *hex, size_t *len)
{
	return al_t_unhex(hex, len);
}

static bool check_sign(const al_secp *ctx, const row *r, const uint8_t *msg, size_t msglen)
{
	size_t n;
	const uint8_t *sk = unhex(r->col[1], &n), *pk, *aux, *sig;
	uint8_t got_pk[32], got_sig[64];
	al_privkey k;
	al_xonly x;
	bool ok = n == 32;

	pk = unhex(r->col[2], &n);
	ok = ok && n == 32;
	aux = unhex(r->col[3], &n);
	ok = ok && n == 32;
	sig = unhex(r->col[5], &n);
	ok = ok && n == 64;
	if (!ok)
		return false;
	memcpy(k.k, sk, 32);
	ok = al_xonly_from_privkey(ctx, &x, &k) == AL_OK;
	al_xonly_serialize(ctx, got_pk, &x);
	ok = ok && memcmp(got_pk, pk, 32) == 0;
	ok = ok && al_schnorr_sign(ctx, got_sig, msg, msglen, &k, aux) == AL_OK &&
	     memcmp(got_sig, sig, 64) == 0;
	al_privkey_clear(&k);
	return ok;
}

static bool check_verify(const al_secp *ctx, const row *r, const uint8_t *msg, size_t msglen)
{
	size_t n, siglen;
	const uint8_t *pk = unhex(r->col[2], &n), *sig = unhex(r->col[5], &siglen);
	bool expect = strcmp(r->col[6], "TRUE") == 0;
	bool key_reason = strstr(r->col[7], "public key") != NULL;
	al_xonly x;
	al_err e;

	if (n != 32 || siglen != 64 || (!expect && strcmp(r->col[6], "FALSE") != 0))
		return false;
	e = al_xonly_parse(ctx, &x, pk);
	if (!expect && key_reason)
		return e == AL_E_PUBKEY;
	if (e != AL_OK)
		return false;
	e = al_schnorr_verify(ctx, sig, msg, msglen, &x);
	return expect ? e == AL_OK : e == AL_E_SIG_INVALID;
}

int main(void)
{
	size_t len, msglen;
	char *text = al_v_load_text("bips/bip340-test-vectors.csv", &len);
	char *line = text, *next;
	const al_secp *ctx = al_t_secp();
	al_v_suite s;
	bool header = true;

	al_v_begin(&s, "bip340");
	for (; line && *line; line = next) {
		row r;
		const uint8_t *msg;
		bool ok;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (header) {
			header = false;
			continue;
		}
		if (!split(&r, line)) {
			al_v_result(&s, false, "malformed row: %s", line);
			continue;
		}
		msg = unhex(r.col[4], &msglen);
		ok = check_verify(ctx, &r, msg, msglen);
		if (r.col[1][0])
			ok = check_sign(ctx, &r, msg, msglen) && ok;
		al_v_result(&s, ok, "row %s (%s, %s)", r.col[0], r.col[6], r.col[7]);
	}
	al_v_end(&s);
	free(text);
	return al_t_finish();
}
