/* Chained hash table keyed by txids and outpoints (see devchain.h). */
#include <stdlib.h>
#include <string.h>

#include "devchain.h"

static size_t slot(const dc_map *m, const uint8_t key[36])
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over the key */

	for (int i = 0; i < 36; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h % m->nb);
}

void dc_map_init(dc_map *m, size_t nb)
{
	m->nb = nb;
	m->count = 0;
	m->b = calloc(nb, sizeof(*m->b));
	if (!m->b)
		abort();
}

void dc_map_free(dc_map *m)
{
	for (size_t i = 0; i < m->nb; i++) {
		dc_map_node *n = m->b[i];

		while (n) {
			dc_map_node *next = n->next;

			free(n);
			n = next;
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* Double the buckets once the chains average more than two nodes. */
static void grow(dc_map *m)
{
	size_t nb = 2 * m->nb;
	dc_map_node **b = calloc(nb, sizeof(*b));
	dc_map old = *m;

	if (!b)
		abort();
	m->b = b;
	m->nb = nb;
	for (size_t i = 0; i < old.nb; i++) {
		dc_map_node *n = old.b[i];

		while (n) {
			dc_map_node *next = n->next;
			size_t s = slot(m, n->key);

			n->next = m->b[s];
			m->b[s] = n;
			n = next;
		}
	}
	free(old.b);
}

void *dc_map_get(const dc_map *m, const uint8_t key[36])
{
	for (dc_map_node *n = m->b[slot(m, key)]; n; n = n->next) {
		if (memcmp(n->key, key, 36) == 0)
			return n->val;
	}
	return NULL;
}

void dc_map_put(dc_map *m, const uint8_t key[36], void *val)
{
	size_t s = slot(m, key);
	dc_map_node *n;

	for (n = m->b[s]; n; n = n->next) {
		if (memcmp(n->key, key, 36) == 0) {
			n->val = val;
			return;
		}
	}
	n = malloc(sizeof(*n));
	if (!n)
		abort();
	memcpy(n->key, key, 36);
	n->val = val;
	n->next = m->b[s];
	m->b[s] = n;
	if (++m->count > 2 * m->nb)
		grow(m);
}

void dc_map_del(dc_map *m, const uint8_t key[36])
{
	dc_map_node **pp = &m->b[slot(m, key)];

	for (; *pp; pp = &(*pp)->next) {
		if (memcmp((*pp)->key, key, 36) == 0) {
			dc_map_node *n = *pp;

			*pp = n->next;
			free(n);
			m->count--;
			return;
		}
	}
}

void dc_key_txid(uint8_t key[36], const uint8_t txid[32])
{
	memcpy(key, txid, 32);
	memset(key + 32, 0xff, 4);
}

void dc_key_outpoint(uint8_t key[36], const uint8_t txid[32], uint32_t vout)
{
	memcpy(key, txid, 32);
	key[32] = (uint8_t)vout;
	key[33] = (uint8_t)(vout >> 8);
	key[34] = (uint8_t)(vout >> 16);
	key[35] = (uint8_t)(vout >> 24);
}
