/* Segwit addresses: BIP 173 as amended by BIP 350 (witness version 0 uses Bech32,
 * versions 1 to 16 use Bech32m), for the network the caller expects. */
#ifndef ALIGHT_BTC_ADDRESS_H
#define ALIGHT_BTC_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "btc/network.h"
#include "util/err.h"

/* BIP 141: "a witness program [...] between 2 and 40 bytes". */
#define AL_WITPROG_MIN 2
#define AL_WITPROG_MAX 40
#define AL_WITVER_MAX  16
/* Longest address (a 40-byte program under "bcrt") plus NUL. */
#define AL_SEGWIT_ADDR_BUFLEN 77
/* OP_n, a direct push and the program. */
#define AL_SEGWIT_SCRIPT_MAXLEN (2 + AL_WITPROG_MAX)

/* "bc", "tb" or "bcrt"; NULL for a value outside al_net. */
const char *al_net_hrp(al_net net);

/* Encode a witness program for `net` as a lower-case address plus NUL (`outcap`
 * bytes, AL_SEGWIT_ADDR_BUFLEN always suffices). AL_E_ADDR_WITVER for a version
 * above 16, AL_E_ADDR_PROGLEN for a program outside 2..40 bytes or a version 0
 * program that is neither 20 nor 32 bytes. */
AL_WARN_UNUSED al_err al_segwit_addr_encode(char *out, size_t outcap, al_net net, unsigned witver,
                                            const uint8_t *prog, size_t proglen);

/* Decode `len` bytes of `addr` as an address for `net`. On success *witver, the
 * program (into `prog`, AL_WITPROG_MAX bytes) and *proglen are set. Errors: any of
 * al_b32_decode's, then, in this order,
 *   AL_E_ADDR_HRP      the HRP is not `net`'s ("Invalid human-readable part")
 *   AL_E_ADDR_EMPTY    no data values at all ("Empty data section")
 *   AL_E_ADDR_WITVER   version above 16 ("Invalid witness version")
 *   AL_E_B32_PADDING   "zero padding of more than 4 bits", "Non-zero padding"
 *   AL_E_ADDR_PROGLEN  program outside 2..40 bytes, or version 0 and neither 20 nor
 *                      32 bytes ("Invalid program length [for witness version 0]")
 *   AL_E_ADDR_VARIANT  Bech32 for version 1+, or Bech32m for version 0 (BIP 350
 *                      "Invalid checksum (Bech32 instead of Bech32m)" and back). */
AL_WARN_UNUSED al_err al_segwit_addr_decode(unsigned *witver, uint8_t prog[AL_WITPROG_MAX],
                                            size_t *proglen, al_net net, const char *addr,
                                            size_t len);

/* The scriptPubKey a witness program pays to: OP_n (0x00, 0x51..0x60) then a push
 * of the program. *outlen gets its length. */
AL_WARN_UNUSED al_err al_segwit_script(uint8_t *out, size_t outcap, size_t *outlen, unsigned witver,
                                       const uint8_t *prog, size_t proglen);

#endif
