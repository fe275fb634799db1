#ifndef ALIGHT_BENCH_MEGA_H
#define ALIGHT_BENCH_MEGA_H

/* Group "mega": many nodes in one enclave (the meganode), through the real image
 * (tests/lib/fake_host.h plays the host, with directory stores). For 1, 100 and 1,000
 * nodes provisioned by users over the user channel and left idle: the enclave heap in use
 * and its high-water mark, bytes per idle node (heap growth / nodes, and the node's own
 * account), provisioning time per node; then node start time (a node reopened from its
 * sealed anchor and its records, ready to serve), p50 and p99. With a devchain
 * (ALIGHT_BENCH_ESPLORA, which scripts/bench sets; mined to DEVCHAIN_BLOCKS first) every
 * node then opens its wallet on it and syncs: heap growth per wallet and the nodes' own
 * account of it, the enclave's shared part (the one header chain, scratch), the time to
 * open and sync. */
void bench_mega(void);

#endif
