/* BOLT #8 encrypted and authenticated transport, as a sans-I/O engine.
 *
 * BOLT #8: "The handshake chosen for the authenticated key exchange is `Noise_XK`.
 * As a pre-message, the initiator must know the identity public key of the
 * responder."
 *
 * In the shape of BearSSL's SSL engine: the caller owns the context (no allocation;
 * it embeds both frame buffers, about 128 KiB, so keep it static or in an arena), and
 * moves bytes through four channels, each a `_buf` / `_ack` pair:
 *
 *   recvrec  bytes from the wire:  write up to *len bytes at the returned pointer,
 *            then al_noise_recvrec_ack(n). The engine asks for exactly what the
 *            current act or frame part still needs, so it never reads past a frame.
 *   sendrec  bytes for the wire:   send up to *len bytes from the returned pointer,
 *            then al_noise_sendrec_ack(n).
 *   sendapp  a plaintext message:  write it (at most AL_NOISE_MAX_MSG bytes) at the
 *            returned pointer, then al_noise_sendapp_ack(len) encrypts it in place
 *            and makes the frame available on sendrec.
 *   recvapp  a decrypted message:  read it at the returned pointer, then
 *            al_noise_recvapp_ack() releases it and lets the next frame in.
 *
 * A NULL `_buf` means the channel is not available now (al_noise_state says which
 * are). Handshake acts are produced and consumed through the same record channels.
 *
 * Errors. Anything wrong in the peer's bytes (a bad version, public key or MAC, or a
 * stream that ends inside an act or frame) is sticky: it is recorded with the phase
 * where it happened, every secret is wiped, and the engine stays closed; every later
 * call returns the same error. BOLT #8: "If a MAC check ever fails during the
 * handshake process, then the connection is to be immediately terminated." A caller
 * that acknowledges more record bytes than were offered has lost track of the stream:
 * that is sticky too (AL_E_NOISE_STATE). Calls that are merely refused change nothing
 * and are not sticky: a message over 65535 bytes (AL_E_NOISE_LENGTH), sendapp or
 * recvapp acknowledged while not available (AL_E_NOISE_STATE).
 *
 * Randomness is an input: the caller passes the ephemeral key. BOLT #8: "For each
 * session, a node MUST generate a new ephemeral key with strong cryptographic
 * randomness." */
#ifndef ALIGHT_LN_NOISE_H
#define ALIGHT_LN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "util/err.h"

/* BOLT #8: "Act One: 50 bytes", "Act Two: 50 bytes", "Act Three: 66 bytes". */
#define AL_NOISE_ACT1_LEN 50
#define AL_NOISE_ACT2_LEN 50
#define AL_NOISE_ACT3_LEN 66
/* BOLT #8: "The *maximum* size of _any_ Lightning message MUST NOT exceed `65535`
 * bytes." */
#define AL_NOISE_MAX_MSG 65535
#define AL_NOISE_MAC_LEN 16
/* The encrypted 2-byte length and its MAC. */
#define AL_NOISE_HDR_LEN 18
/* BOLT #8: "a total maximum packet length of `2 + 16 + 65535 + 16` = `65569` bytes." */
#define AL_NOISE_MAX_FRAME (AL_NOISE_HDR_LEN + AL_NOISE_MAX_MSG + AL_NOISE_MAC_LEN)
/* BOLT #8: "A key is to be rotated after a party sends or decrypts 1000 messages with
 * it." (one nonce per length prefix and one per body) */
#define AL_NOISE_ROTATE_EVERY 1000

/* Where the engine is: the act it is exchanging, or the transport phase. An error is
 * recorded with the phase it happened in. */
typedef enum al_noise_phase {
	AL_NOISE_ACT1 = 1,
	AL_NOISE_ACT2 = 2,
	AL_NOISE_ACT3 = 3,
	AL_NOISE_TRANSPORT = 4,
} al_noise_phase;

/* al_noise_state bits, as BearSSL's BR_SSL_CLOSED, _SENDREC, _RECVREC, _SENDAPP and
 * _RECVAPP. */
#define AL_NOISE_CLOSED  0x01u
#define AL_NOISE_SENDREC 0x02u
#define AL_NOISE_RECVREC 0x04u
#define AL_NOISE_SENDAPP 0x08u
#define AL_NOISE_RECVAPP 0x10u

/* The engine. Its fields are private to noise.c; they are visible only so that the
 * caller can allocate it (tests may inspect the keys). */
typedef struct al_noise {
	const al_secp *secp;
	bool initiator;
	bool closed;
	uint8_t phase;     /* al_noise_phase */
	uint8_t err_phase; /* where `err` happened */
	al_err err;
	/* Handshake state (BOLT #8 "Handshake State"). */
	uint8_t ck[32];
	uint8_t h[32];
	uint8_t temp_k[32];
	al_privkey ls;
	al_pubkey ls_pub;
	al_privkey e;
	al_pubkey rs;
	al_pubkey re;
	/* Transport keys, nonces and the chaining key of each direction's rotation. */
	uint8_t sk[32];
	uint8_t rk[32];
	uint8_t sck[32];
	uint8_t rck[32];
	uint64_t sn;
	uint64_t rn;
	/* Receiving: ilen of ineed bytes of the current unit are in ibuf. */
	size_t ilen;
	size_t ineed;
	bool in_body;
	bool app_ready;
	size_t app_len;
	/* Sending: obuf[ooff, olen) waits for the wire. */
	size_t ooff;
	size_t olen;
	uint8_t ibuf[AL_NOISE_MAX_FRAME];
	uint8_t obuf[AL_NOISE_MAX_FRAME];
} al_noise;

/* Start a handshake as the initiator, who knows the responder's node id `rs`. `ls` is
 * our node key and `e` the fresh ephemeral key. Act One is then waiting on sendrec.
 * On error (AL_E_PRIVKEY for an invalid key) the engine is closed with that error. */
AL_WARN_UNUSED al_err al_noise_init_initiator(al_noise *c, const al_secp *secp,
                                              const al_privkey *ls, const al_pubkey *rs,
                                              const al_privkey *e);

/* Start a handshake as the responder: recvrec then waits for Act One. `e` is the
 * ephemeral key Act Two will use. */
AL_WARN_UNUSED al_err al_noise_init_responder(al_noise *c, const al_secp *secp,
                                              const al_privkey *ls, const al_privkey *e);

/* Wipe every secret and buffer; the memory is the caller's again. */
void al_noise_clear(al_noise *c);

/* AL_NOISE_* bits: which channels are available now. Once closed: AL_NOISE_CLOSED,
 * plus AL_NOISE_RECVAPP while a message received before a clean end is unread. */
unsigned al_noise_state(const al_noise *c);
al_noise_phase al_noise_current_phase(const al_noise *c);
/* The sticky error (AL_OK if none); *where (if not NULL) receives the phase where it
 * happened. */
al_err al_noise_error(const al_noise *c, al_noise_phase *where);

/* The peer's node id: known to the initiator from the start, learned by the responder
 * in Act Three. AL_E_NOISE_STATE before the handshake completes. */
AL_WARN_UNUSED al_err al_noise_remote_pubkey(const al_noise *c, al_pubkey *out);

uint8_t *al_noise_recvrec_buf(al_noise *c, size_t *len);
/* `n` bytes were written at the recvrec buffer. Completing an act or frame processes
 * it: the sticky error, if any, is returned. */
AL_WARN_UNUSED al_err al_noise_recvrec_ack(al_noise *c, size_t n);
/* The peer's stream has ended. Clean (AL_OK) only in the transport phase between
 * frames; inside a handshake, act or frame it is AL_E_TRUNCATED (BOLT #8: "Read
 * _exactly_ 50 bytes from the network buffer."). The engine is closed either way. */
al_err al_noise_recvrec_eof(al_noise *c);

const uint8_t *al_noise_sendrec_buf(const al_noise *c, size_t *len);
AL_WARN_UNUSED al_err al_noise_sendrec_ack(al_noise *c, size_t n);

/* Room for one plaintext message of up to *len (AL_NOISE_MAX_MSG) bytes, once the
 * handshake is done and the previous frame has gone to the wire. */
uint8_t *al_noise_sendapp_buf(al_noise *c, size_t *len);
/* Encrypt the `len`-byte message written at the sendapp buffer, in place. */
AL_WARN_UNUSED al_err al_noise_sendapp_ack(al_noise *c, size_t len);

/* The next decrypted message (*len may be 0 for an empty message), or NULL. */
const uint8_t *al_noise_recvapp_buf(const al_noise *c, size_t *len);
AL_WARN_UNUSED al_err al_noise_recvapp_ack(al_noise *c);

#endif
