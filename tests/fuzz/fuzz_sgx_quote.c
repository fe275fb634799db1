/* DCAP quote parser (SGX v3, TDX v4/v5) and the report body decoders. */
#include <stddef.h>
#include <stdint.h>

#include "attest/sgx_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_sgx_quote q;
	al_sgx_report r;
	al_tdx_report t;

	if (al_sgx_quote_parse(&q, data, size) != AL_OK)
		return 0;
	if (q.body.len == AL_SGX_REPORT_LEN)
		al_sgx_report_parse(&r, q.body.p);
	else
		al_tdx_report_parse(&t, q.body.p);
	al_sgx_report_parse(&r, q.qe_report);
	return 0;
}
