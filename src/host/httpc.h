/* The host's HTTP(S) client: net/httpc.h over a TCP socket, with the files of its
 * configuration read from disk (ca_file, or the system roots when https is asked for
 * without any trust given; client certificate and key files) and memory from malloc. */
#ifndef ALIGHT_HOST_HTTPC_H
#define ALIGHT_HOST_HTTPC_H

#include "net/httpc.h"

#define AL_HTTPC_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* The malloc allocator, for the host's users of core modules that take an al_alloc. */
extern const al_alloc al_host_alloc;

/* Errors: AL_E_NET_FILE (unreadable CA or client certificate file), AL_E_ARG (one of
 * the client files without the other), al_httpc_new_over's. */
AL_WARN_UNUSED al_err al_httpc_new(al_httpc **out, const al_httpc_config *cfg);

#endif
