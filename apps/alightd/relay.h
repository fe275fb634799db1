/* Sockets relayed to and from the enclave (see alightd.h): every node's peers, the
 * dials the enclave asks for, and the user channels. The host moves bytes only: the
 * BOLT #8 sessions and the user channels' TLS end inside the enclave. */
#ifndef ALIGHTD_RELAY_H
#define ALIGHTD_RELAY_H

#include "alightd.h"

/* Bytes of the connection table for n peer connections (and the user channels). */
size_t relay_table_size(size_t n, uint32_t max_nodes);
/* Set up the tables (memory from d->arena). */
al_err relay_init(alightd *d);
/* Serve the user channels on `a` (after the enclave's ctl_setup). */
al_err relay_listen_ctl(alightd *d, const sock_addr *a);
/* A listener for node i's peers (at d->listen_base, see alightd.h), told to the node. */
al_err relay_listen_node(alightd *d, uint32_t node);
/* The network, timer and node-event ocalls of the enclave, answered here. */
void relay_enclave_net(alightd *d, al_enclave_net *net);
/* After every ecall: act on what the enclave asked for (closes, read and write
 * interest), deliver storage completions, until nothing is left. */
void relay_settle(alightd *d);
/* Close every connection and listener (at shutdown). */
void relay_shutdown(alightd *d);

#endif
