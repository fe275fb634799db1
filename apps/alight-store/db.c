/* Shared by the storage implementations. */
#include "db.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	const al_vss_kv *kv;
	bool del;
};

static int cmp_entry(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	size_t n = a->kv->keylen < b->kv->keylen ? a->kv->keylen : b->kv->keylen;
	int c = memcmp(a->kv->key, b->kv->key, n);

	if (c)
		return c;
	return a->kv->keylen < b->kv->keylen ? -1 : a->kv->keylen > b->kv->keylen;
}

al_err st_put_order(const al_vss_put_req *r, const al_vss_kv ***out, bool **is_del)
{
	size_t n = r->nputs + r->ndels, i;
	struct entry *e = calloc(n ? n : 1, sizeof(*e));
	const al_vss_kv **kv = calloc(n ? n : 1, sizeof(*kv));
	bool *del = calloc(n ? n : 1, sizeof(*del));

	if (!e || !kv || !del) {
		free(e), free(kv), free(del);
		return AL_E_NOMEM;
	}
	for (i = 0; i < r->nputs; i++)
		e[i] = (struct entry){&r->puts[i], false};
	for (i = 0; i < r->ndels; i++)
		e[r->nputs + i] = (struct entry){&r->dels[i], true};
	qsort(e, n, sizeof(*e), cmp_entry);
	for (i = 0; i < n; i++)
		kv[i] = e[i].kv, del[i] = e[i].del;
	free(e);
	*out = kv;
	*is_del = del;
	return AL_OK;
}
