/* Fuzz the node's own record loaders: the invoice book ("inv"/"book", node_inv.c), the
 * payment book ("pay"/"book", node_send.c) and the forwards ("fwd"/"book", node_fwd.c),
 * as they come out of the store after unsealing. The first byte picks the loader (its
 * value modulo 3), the rest is the record. A record that
 * loads must be written back and load again to the same bytes; nothing may crash.
 * Seeds: books with open, settled, hold and canceled invoices (formats 1 and 2) and
 * payments in flight, succeeded and failed, forwards offered, settled and failed
 * (written by hand from the formats in node_inv.c, node_send.c and node_fwd.c). */
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return calloc(1, n);
}
static void f_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static const al_alloc heap = {f_alloc, f_free, NULL};

typedef al_err (*load_fn)(al_node *, const uint8_t *, size_t);
typedef al_err (*save_fn)(const al_node *, uint8_t **, size_t *);

static void clear(al_node *n)
{
	node_inv_free(n);
	node_send_free(n);
	node_fwd_free(n);
}

static const load_fn loads[3] = {node_inv_load, node_send_load, node_fwd_load};
static const save_fn saves[3] = {node_inv_save, node_send_save, node_fwd_save};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static al_node n;
	load_fn load;
	save_fn save;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	if (size < 1)
		return 0;
	memset(&n, 0, sizeof(n));
	n.env.mem = &heap;
	load = loads[data[0] % 3];
	save = saves[data[0] % 3];
	if (load(&n, data + 1, size - 1) != AL_OK) {
		clear(&n);
		return 0;
	}
	if (save(&n, &a, &alen) != AL_OK || !a)
		abort();
	clear(&n);
	memset(&n, 0, sizeof(n));
	n.env.mem = &heap;
	if (load(&n, a, alen) != AL_OK || save(&n, &b, &blen) != AL_OK || !b)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	clear(&n);
	return 0;
}
