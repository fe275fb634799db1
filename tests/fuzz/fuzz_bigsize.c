/* BigSize and truncated-integer readers on arbitrary bytes.
 *
 * Reads BigSizes until the input ends or a read fails; every value read must
 * re-encode to exactly the bytes it was read from (canonical encodings only), and
 * the rest of the input read as tu64 must re-encode to itself when accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bigsize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tu(const uint8_t *data, size_t size)
{
	uint8_t buf[8];
	al_cur c;
	al_wb w;
	uint64_t v;

	al_cur_init(&c, data, size);
	v = al_cur_tu64(&c);
	if (al_cur_done(&c) != AL_OK) {
		if (size <= 8 && (size == 0 || data[0] != 0))
			abort(); /* a minimal encoding was refused */
		return;
	}
	al_wb_init(&w, buf, sizeof(buf));
	al_wb_tu64(&w, v);
	if (!al_wb_ok(&w) || w.len != size || memcmp(buf, data, size) != 0 ||
	    al_tu64_len(v) != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_cur c;

	al_cur_init(&c, data, size);
	while (al_cur_ok(&c) && al_cur_remaining(&c) > 0) {
		const uint8_t *start = c.p;
		size_t before = al_cur_remaining(&c), used;
		uint64_t v = al_cur_bigsize(&c);
		uint8_t buf[9];
		al_wb w;

		if (!al_cur_ok(&c)) {
			if (c.err != AL_E_TRUNCATED && c.err != AL_E_BIGSIZE_NONCANONICAL)
				abort();
			if (v != 0 || al_cur_remaining(&c) != 0)
				abort();
			break;
		}
		used = before - al_cur_remaining(&c);
		al_wb_init(&w, buf, sizeof(buf));
		al_wb_bigsize(&w, v);
		if (!al_wb_ok(&w) || w.len != used || al_bigsize_len(v) != used ||
		    memcmp(buf, start, used) != 0)
			abort();
	}
	check_tu(data, size);
	return 0;
}
