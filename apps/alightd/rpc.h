/* The operator's control socket: HTTP/1.1 over a Unix socket (mode 0600) in the data
 * directory, one request per connection. This is only the transport: the handler is
 * api.c's, answers that come later go through rpc_complete. */
#ifndef ALIGHTD_RPC_H
#define ALIGHTD_RPC_H

#include "alightd.h"

#define RPC_IN_MAX  (80 * 1024)
#define RPC_OUT_CAP (512 * 1024)

size_t rpc_table_size(void);
al_err rpc_init(alightd *d);
/* Finish a pending request with `status` and the JSON `body`; a token whose client
 * went away is ignored. */
void rpc_complete(alightd *d, uint64_t token, int status, const uint8_t *body, size_t len);
void rpc_shutdown(alightd *d);

#endif
