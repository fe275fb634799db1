/* RA-TLS client hook (attest/ratls_client.h). */
#include "attest/ratls_client.h"

#include <string.h>

al_err al_ratls_client_init(al_ratls_client *c, void *scratch, size_t scratch_len,
                            const al_att_policy *policy, const uint8_t *collateral,
                            size_t collateral_len, const uint8_t *root, size_t root_len,
                            int64_t now)
{
	memset(c, 0, sizeof(*c));
	if (!scratch || scratch_len < AL_ATT_SCRATCH_SIZE || (collateral_len && !collateral) ||
	    (root_len && !root))
		return AL_E_ARG;
	if (policy)
		c->policy = *policy;
	else
		al_att_policy_default(&c->policy);
	c->collateral = collateral;
	c->collateral_len = collateral_len;
	c->root = root_len ? root : NULL;
	c->root_len = root_len;
	c->now = now;
	c->scratch = scratch;
	c->scratch_len = scratch_len;
	return AL_OK;
}

void al_ratls_client_set_time(al_ratls_client *c, int64_t now)
{
	c->now = now;
}

void al_ratls_client_tls_config(al_tls_config *cfg, al_ratls_client *c)
{
	cfg->verify = al_ratls_client_verify;
	cfg->verify_arg = c;
}

/* The evidence must have been a quote bound to this certificate's key: the verifier
 * only says so for certificates (res->bound); anything else is refused even if a
 * policy were lax. */
static al_err refuse_unbound(al_att_result *res)
{
	if (res->bound && res->container != AL_RATLS_NONE &&
	    (res->type == AL_ATT_SGX || res->type == AL_ATT_TDX))
		return AL_OK;
	if (res->n_failures == 0)
		al_att_fail(res, "ratls_binding", AL_E_ATT_BINDING,
		            "the certificate's key is not bound by attestation evidence");
	return res->failures[0].err;
}

al_err al_ratls_client_verify(void *arg, struct x509_st *leaf, const uint8_t *der, size_t der_len)
{
	al_ratls_client *c = arg;
	al_att_result *res = &c->result;
	al_att_input in;
	al_arena a;
	al_err err;

	(void)leaf; /* the verifier parses the DER itself */
	c->checked = true;
	memset(&in, 0, sizeof(in));
	in.evidence = der;
	in.evidence_len = der_len;
	in.collateral = c->collateral;
	in.collateral_len = c->collateral_len;
	in.extra_root = c->root;
	in.extra_root_len = c->root_len;
	in.now = c->now;
	in.policy = &c->policy;
	in.allow_simulated = c->policy.allow_simulated;
	al_arena_init(&a, c->scratch, c->scratch_len);
	err = al_att_verify(&a, res, &in);
	if (err && res->n_failures == 0)
		al_att_fail(res, "input", err, NULL);
	if (res->status == AL_ATT_CONTRAINDICATED)
		return res->n_failures ? res->failures[0].err : AL_E_ATT_POLICY;
	return refuse_unbound(res);
}

const al_att_result *al_ratls_client_result(const al_ratls_client *c)
{
	return c->checked ? &c->result : NULL;
}

const char *al_ratls_client_step(const al_ratls_client *c)
{
	if (!c->checked || c->result.n_failures == 0)
		return NULL;
	return c->result.failures[0].step;
}
