/* BOLT #1 messages: type dispatch, the message-level rules, ping/pong and init.
 *
 * The per-message structs, decoders and writers are generated from wire/bolt.csv
 * (scripts/gen-wire) into ln/wire_gen.h. Decoders borrow variable-length fields from
 * the input, so a decoded message lives as long as the bytes it came from. Points
 * and signatures stay in wire form; the code that uses one parses it (crypto/secp.h).
 *
 * The helpers in the first section are what generated code calls; the rest is the
 * hand-written protocol logic. */
#ifndef ALIGHT_LN_WIRE_H
#define ALIGHT_LN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ln/features.h"
#include "ln/wire_gen.h"
#include "util/cursor.h"
#include "util/err.h"

/* BOLT #1: "the maximum possible size is 65535 bytes" (type included). */
#define AL_WIRE_MAX_MSG 65535
/* BOLT #1: a ping asking for this many pong bytes or more gets no reply. */
#define AL_WIRE_PONG_NO_REPLY 65532

/* --- for generated code --------------------------------------------------- */

/* Read the 2-byte type, failing c with AL_E_WIRE_TYPE unless it is `type`. */
void al_wire_cur_type(al_cur *c, uint16_t type);
/* Borrow an array of n elements of `size` bytes; AL_E_TRUNCATED if it is cut short. */
const uint8_t *al_wire_cur_array(al_cur *c, uint64_t n, size_t size);
/* Borrow every remaining byte as elements of `size` bytes, their count in *n; a
 * partial element is AL_E_TLV_VALUE_LENGTH (these end TLV values). */
const uint8_t *al_wire_cur_rest(al_cur *c, size_t size, size_t *n);
/* BOLT #1 `s64`: "an 8-byte signed integer", big-endian two's complement. */
int64_t al_wire_cur_s64(al_cur *c);
void al_wire_wb_s64(al_wb *w, int64_t v);
/* Write n elements of `size` bytes; p may be NULL only when n is 0 (else AL_E_ARG). */
void al_wire_wb_array(al_wb *w, const uint8_t *p, uint64_t n, size_t size);
/* Close a message begun at w->len == start: AL_E_TOO_LARGE past AL_WIRE_MAX_MSG. */
void al_wire_wb_end(al_wb *w, size_t start);
/* BOLT #1 "Message Extension": the TLV stream after the known fields of a message
 * that defines none. "Otherwise, if the `extension` is invalid: MUST close the
 * connection": malformed streams and unknown even records fail (util/tlv.h);
 * valid ones are not kept. */
AL_WARN_UNUSED al_err al_wire_check_extension(const uint8_t *p, size_t len);

/* --- receiving ------------------------------------------------------------ */

/* The message type, or AL_E_WIRE_TOO_SHORT when msg has fewer than two bytes. */
AL_WARN_UNUSED al_err al_wire_peek_type(uint16_t *type, const uint8_t *msg, size_t len);

typedef struct al_wire_msg {
	uint16_t type;
	bool ignored; /* an unknown odd type: nothing was decoded */
	union al_wire_any u;
} al_wire_msg;

/* Decode one received message by its type. BOLT #1, a receiving node:
 * "upon receiving a message of _odd_, unknown type: MUST ignore the received
 * message" (AL_OK, m->ignored); "upon receiving a message of _even_, unknown type:
 * MUST close the connection" (AL_E_WIRE_UNKNOWN_EVEN); "upon receiving a known
 * message with insufficient length for the contents: MUST close the connection"
 * (AL_E_TRUNCATED). Also AL_E_WIRE_TOO_SHORT, and the extension's TLV errors. */
AL_WARN_UNUSED al_err al_wire_read(al_wire_msg *m, const uint8_t *msg, size_t len);

/* BOLT #1, a node receiving a `ping`: "if `num_pong_bytes` is less than 65532: MUST
 * respond by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`.
 * otherwise (`num_pong_bytes` is **not** less than 65532): MUST ignore the `ping`."
 * Writes the pong (its `ignored` bytes zero: "SHOULD set `ignored` to 0s") and sets
 * *reply, or writes nothing and clears it. Returns w's error. */
AL_WARN_UNUSED al_err al_wire_ping_reply(al_wb *w, bool *reply, const struct al_wire_ping *ping);
/* Does a pong answer a ping that asked for num_pong_bytes? BOLT #1: "if `byteslen`
 * does not correspond to any `ping`'s `num_pong_bytes` value it has sent: MAY close
 * the connection." */
bool al_wire_pong_answers(const struct al_wire_pong *pong, uint16_t num_pong_bytes);

/* BOLT #1: "MUST combine (logical OR) the two feature bitmaps into one logical
 * `features` map." Errors of al_features_merge_wire. */
AL_WARN_UNUSED al_err al_wire_init_features(al_features *f, unsigned *bad,
                                            const struct al_wire_init *m);
/* BOLT #1: "upon receiving `networks` containing no common chains: MAY close the
 * connection": AL_E_WIRE_CHAIN if networks is present and lacks `chain`. */
AL_WARN_UNUSED al_err al_wire_init_check_chain(const struct al_wire_init *m,
                                               const uint8_t chain[32]);
/* A peer's init, all checks at once: merged features negotiated against ours
 * (al_features_negotiate, *bad as there), then the chain. */
AL_WARN_UNUSED al_err al_wire_init_accept(al_features *negotiated, unsigned *bad,
                                          const al_features *local, const uint8_t chain[32],
                                          const struct al_wire_init *m);

/* --- sending -------------------------------------------------------------- */

/* Fill the feature fields of an init we send: everything in `features`, minimal
 * length, nothing in `globalfeatures` ("SHOULD NOT set features greater than 13 in
 * `globalfeatures`"). buf (cap bytes) holds the bits and must outlive m. */
AL_WARN_UNUSED al_err al_wire_init_set_features(struct al_wire_init *m, uint8_t *buf, size_t cap,
                                                const al_features *local);

#endif
