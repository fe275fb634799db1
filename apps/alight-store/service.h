/* alight-store's request handling: HTTP request in, VSS answer out (store/vss.h).
 *
 * Order of checks, each answered with an ErrorResponse and nothing changed:
 *   unknown path: 404; a method other than POST: 405 (with Allow: POST);
 *   missing or bad Authorization: 401 AUTH_EXCEPTION (the message names the reason);
 *   body over the limit: 413; a body that is not the request message, or breaks a
 *   VSS rule: 400 INVALID_REQUEST_EXCEPTION;
 * then the operation: 200, 409 CONFLICT_EXCEPTION, 404 NO_SUCH_KEY_EXCEPTION or 500.
 * vss-server answers an unknown path with 400; 404/405 say more and no VSS client
 * depends on the difference. Every answer carries vss-protocol-version: 0.1.0. */
#ifndef ALIGHT_STORE_APP_SERVICE_H
#define ALIGHT_STORE_APP_SERVICE_H

#include <stddef.h>

#include "db.h"
#include "host/httpd.h"

typedef struct st_service {
	st_db db;
	const al_secp *secp;
	size_t max_body;
} st_service;

/* The al_httpd handler; arg is the st_service. */
void st_service_handle(void *arg, const al_httpd_req *req, al_httpd_res *res);

#endif
