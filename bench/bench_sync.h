#ifndef ALIGHT_BENCH_SYNC_H
#define ALIGHT_BENCH_SYNC_H

/* Group "sync": what one chain/sync.h step costs per new block (requests, bytes on the
 * wire both ways, response body bytes, milliseconds) for an idle node and for one
 * watching 1,000 real outputs, plus the block in which some of them are spent. It runs
 * against alight-devchain at the URL in ALIGHT_BENCH_ESPLORA, which scripts/bench sets;
 * without it the figure says it was not measured. */
void bench_sync(void);

#endif
