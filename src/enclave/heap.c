#include "enclave/heap.h"

#include <stdatomic.h>
#include <string.h>

/* Every block starts with this header; a free block also holds its list links. The
 * low bit of `size` says the block is in use (sizes are multiples of 16). */
typedef struct blk {
	uint64_t prev; /* size of the block before this one; 0 for the first block */
	uint64_t size; /* this block's size, header included, | USED */
} blk;

typedef struct fblk {
	blk h;
	struct fblk *next;
	struct fblk *prevf;
} fblk;

#define USED      ((uint64_t)1)
#define HDR       sizeof(blk)
#define MIN_BLOCK sizeof(fblk)

_Static_assert(sizeof(blk) == AL_HEAP_ALIGN, "block header keeps payloads 16-byte aligned");
_Static_assert(sizeof(fblk) <= 2 * AL_HEAP_ALIGN, "a free block fits in the minimum block");

struct al_heap {
	atomic_flag lock;
	uint8_t *start; /* first block */
	uint8_t *end;   /* the sentinel: a zero-size block marked in use */
	fblk *free;     /* free blocks, most recently freed first */
	al_heap_stats st;
};

static size_t bsize(const blk *b)
{
	return (size_t)(b->size & ~USED);
}

static bool bused(const blk *b)
{
	return (b->size & USED) != 0;
}

static blk *bnext(blk *b)
{
	return (blk *)((uint8_t *)b + bsize(b));
}

static void lock(al_heap *h)
{
	while (atomic_flag_test_and_set_explicit(&h->lock, memory_order_acquire))
		;
}

static void unlock(al_heap *h)
{
	atomic_flag_clear_explicit(&h->lock, memory_order_release);
}

static void list_push(al_heap *h, fblk *f)
{
	f->prevf = NULL;
	f->next = h->free;
	if (h->free)
		h->free->prevf = f;
	h->free = f;
}

static void list_remove(al_heap *h, fblk *f)
{
	if (f->prevf)
		f->prevf->next = f->next;
	else
		h->free = f->next;
	if (f->next)
		f->next->prevf = f->prevf;
}

al_err al_heap_init(al_heap **out, void *mem, size_t len)
{
	uintptr_t p = (uintptr_t)mem;
	uintptr_t a = (p + AL_HEAP_ALIGN - 1) & ~(uintptr_t)(AL_HEAP_ALIGN - 1);
	size_t hsz = (sizeof(al_heap) + AL_HEAP_ALIGN - 1) & ~(size_t)(AL_HEAP_ALIGN - 1);

	*out = NULL;
	if (!mem || len < (a - p) + hsz + MIN_BLOCK + HDR)
		return AL_E_ARG;
	len -= a - p;
	len &= ~(size_t)(AL_HEAP_ALIGN - 1);
	al_heap *h = (al_heap *)a;
	memset(h, 0, sizeof(*h));
	atomic_flag_clear(&h->lock);
	h->start = (uint8_t *)a + hsz;
	h->end = (uint8_t *)a + len - HDR;
	size_t first = (size_t)(h->end - h->start);
	fblk *f = (fblk *)h->start;
	f->h.prev = 0;
	f->h.size = first;
	blk *sentinel = (blk *)h->end;
	sentinel->prev = first;
	sentinel->size = USED;
	list_push(h, f);
	h->st.size = first;
	*out = h;
	return AL_OK;
}

/* Block size for a request of n bytes; 0 if it cannot be represented. */
static size_t need_for(size_t n)
{
	if (n > SIZE_MAX - MIN_BLOCK - AL_HEAP_ALIGN)
		return 0;
	size_t need = ((n + AL_HEAP_ALIGN - 1) & ~(size_t)(AL_HEAP_ALIGN - 1)) + HDR;
	return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* Cut block b (not on the free list) down to `keep` bytes when the rest can make a
 * block of its own; the rest is freed and merged with a free successor. `live` is
 * how many bytes of b held data (they may be secrets: the part cut off is wiped;
 * free memory already is). */
static void split(al_heap *h, blk *b, size_t keep, size_t live)
{
	size_t total = bsize(b);
	if (total - keep < MIN_BLOCK)
		return;
	uint64_t flag = b->size & USED;
	b->size = keep | flag;
	fblk *rest = (fblk *)((uint8_t *)b + keep);
	if (live > keep)
		memset(rest, 0, live - keep);
	rest->h.prev = keep;
	rest->h.size = total - keep;
	blk *n = bnext(&rest->h);
	if (!bused(n)) {
		list_remove(h, (fblk *)n);
		rest->h.size += bsize(n);
		n = bnext(&rest->h);
	}
	n->prev = bsize(&rest->h);
	list_push(h, rest);
}

static void account_alloc(al_heap *h, size_t sz)
{
	h->st.used += sz;
	h->st.allocs++;
	h->st.total++;
	if (h->st.used > h->st.high)
		h->st.high = h->st.used;
}

static void *alloc_locked(al_heap *h, size_t n)
{
	size_t need = need_for(n);
	fblk *f = NULL;
	if (need) {
		for (f = h->free; f; f = f->next)
			if (bsize(&f->h) >= need)
				break;
	}
	if (!f) {
		h->st.failed++;
		return NULL;
	}
	list_remove(h, f);
	split(h, &f->h, need, 0);
	f->h.size |= USED;
	account_alloc(h, bsize(&f->h));
	return (uint8_t *)f + HDR;
}

al_err al_heap_alloc(al_heap *h, size_t size, void **out)
{
	lock(h);
	*out = alloc_locked(h, size);
	unlock(h);
	return *out ? AL_OK : AL_E_NOMEM;
}

al_err al_heap_calloc(al_heap *h, size_t n, size_t size, void **out)
{
	*out = NULL;
	if (size && n > SIZE_MAX / size)
		return AL_E_OVERFLOW;
	AL_TRY(al_heap_alloc(h, n * size, out));
	memset(*out, 0, n * size);
	return AL_OK;
}

/* The block of a pointer we handed out, or NULL for anything else. */
static blk *block_of(const al_heap *h, const void *p)
{
	const uint8_t *q = p;
	if (q < h->start + HDR || q >= h->end || ((uintptr_t)q & (AL_HEAP_ALIGN - 1)) != 0)
		return NULL;
	blk *b = (blk *)(q - HDR);
	if (!bused(b) || bsize(b) < MIN_BLOCK || (uint8_t *)b + bsize(b) > h->end)
		return NULL;
	return b;
}

bool al_heap_owns(const al_heap *h, const void *p)
{
	const uint8_t *q = p;
	return q >= h->start && q < h->end;
}

size_t al_heap_block_size(const al_heap *h, const void *p)
{
	blk *b = block_of(h, p);
	return b ? bsize(b) - HDR : 0;
}

static void free_locked(al_heap *h, blk *b)
{
	size_t sz = bsize(b);
	h->st.used -= sz;
	h->st.allocs--;
	/* Freed memory may have held secrets: wipe it before anyone else gets it. */
	memset((uint8_t *)b + HDR, 0, sz - HDR);
	b->size = sz;
	blk *n = bnext(b);
	if (!bused(n)) {
		list_remove(h, (fblk *)n);
		b->size += bsize(n);
	}
	if (b->prev) {
		blk *pb = (blk *)((uint8_t *)b - b->prev);
		if (!bused(pb)) {
			list_remove(h, (fblk *)pb);
			pb->size += bsize(b);
			b = pb;
		}
	}
	bnext(b)->prev = bsize(b);
	list_push(h, (fblk *)b);
}

void al_heap_free(al_heap *h, void *p)
{
	if (!p)
		return;
	lock(h);
	blk *b = block_of(h, p);
	if (b)
		free_locked(h, b);
	else
		h->st.foreign++;
	unlock(h);
}

/* Grow b in place into a free successor; true if it now holds `need` bytes. */
static bool grow_in_place(al_heap *h, blk *b, size_t need)
{
	blk *n = bnext(b);
	size_t old = bsize(b);
	if (bused(n) || old + bsize(n) < need)
		return false;
	list_remove(h, (fblk *)n);
	b->size = (old + bsize(n)) | USED;
	bnext(b)->prev = bsize(b);
	split(h, b, need, old);
	h->st.used += bsize(b) - old;
	if (h->st.used > h->st.high)
		h->st.high = h->st.used;
	return true;
}

static al_err realloc_locked(al_heap *h, void **p, size_t size)
{
	blk *b = block_of(h, *p);
	if (!b) {
		h->st.foreign++;
		return AL_E_ARG;
	}
	size_t need = need_for(size);
	if (!need) {
		h->st.failed++;
		return AL_E_NOMEM;
	}
	size_t old = bsize(b);
	if (need <= old) {
		split(h, b, need, old);
		h->st.used -= old - bsize(b);
		return AL_OK;
	}
	if (grow_in_place(h, b, need))
		return AL_OK;
	void *q = alloc_locked(h, size);
	if (!q)
		return AL_E_NOMEM;
	memcpy(q, *p, old - HDR);
	free_locked(h, b);
	*p = q;
	return AL_OK;
}

al_err al_heap_realloc(al_heap *h, void **p, size_t size)
{
	if (!*p)
		return al_heap_alloc(h, size, p);
	lock(h);
	al_err e = realloc_locked(h, p, size);
	unlock(h);
	return e;
}

void al_heap_stats_get(al_heap *h, al_heap_stats *out)
{
	lock(h);
	*out = h->st;
	out->largest = 0;
	for (fblk *f = h->free; f; f = f->next)
		if (bsize(&f->h) - HDR > out->largest)
			out->largest = bsize(&f->h) - HDR;
	unlock(h);
}

static bool check_list(al_heap *h, size_t n_free)
{
	size_t n = 0;
	for (fblk *f = h->free; f; f = f->next) {
		if (bused(&f->h) || (f->next && f->next->prevf != f) || ++n > n_free)
			return false;
	}
	return n == n_free;
}

bool al_heap_check(al_heap *h)
{
	size_t used = 0, allocs = 0, n_free = 0, prev = 0;
	bool prev_free = false, ok = true;
	lock(h);
	blk *b = (blk *)h->start;
	while ((uint8_t *)b < h->end && ok) {
		size_t sz = bsize(b);
		ok = sz >= MIN_BLOCK && sz % AL_HEAP_ALIGN == 0 && b->prev == prev &&
		     (uint8_t *)b + sz <= h->end && !(prev_free && !bused(b));
		if (bused(b)) {
			used += sz;
			allocs++;
		} else {
			n_free++;
		}
		prev_free = !bused(b);
		prev = sz;
		b = (blk *)((uint8_t *)b + (ok ? sz : 0));
	}
	ok = ok && (uint8_t *)b == h->end && b->prev == prev && b->size == USED &&
	     used == h->st.used && allocs == h->st.allocs && h->st.high >= used &&
	     check_list(h, n_free);
	unlock(h);
	return ok;
}
