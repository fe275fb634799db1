/* Bech32 (BIP 173) and Bech32m (BIP 350): the checksummed base32 string format,
 * independent of what the data means (segwit addresses live in btc/address.h,
 * BOLT 11 invoices reuse the same encoding with a longer length limit).
 *
 * Data is handled as 5-bit values (one per character); al_b32_convert_bits moves
 * between 8-bit bytes and 5-bit groups with the padding rules BIP 173 sets. */
#ifndef ALIGHT_BTC_BECH32_H
#define ALIGHT_BTC_BECH32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* BIP 173: "A Bech32 string is at most 90 characters long". */
#define AL_B32_MAXLEN 90
/* The human-readable part: "1 to 83 US-ASCII characters". */
#define AL_B32_HRP_MAXLEN   83
#define AL_B32_CHECKSUM_LEN 6

typedef enum al_b32_variant {
	AL_B32_BECH32 = 1,  /* BIP 173: polymod constant 1 */
	AL_B32_BECH32M = 2, /* BIP 350: polymod constant 0x2bc830a3 */
} al_b32_variant;

/* Encode `hrp` (ASCII 33..126, no upper case) and `datalen` 5-bit values as a
 * lower-case string plus NUL in `out` (`outcap` bytes, at least
 * strlen(hrp) + 1 + datalen + 6 + 1). Fails with AL_E_B32_LENGTH beyond
 * AL_B32_MAXLEN characters, AL_E_B32_HRP for an empty, too long or out-of-range
 * HRP, AL_E_ARG for a data value above 31. */
AL_WARN_UNUSED al_err al_b32_encode(char *out, size_t outcap, const char *hrp, const uint8_t *data,
                                    size_t datalen, al_b32_variant variant);
/* The same with a caller-chosen length limit (BOLT 11 invoices exceed 90). */
AL_WARN_UNUSED al_err al_b32_encode_long(char *out, size_t outcap, const char *hrp,
                                         const uint8_t *data, size_t datalen,
                                         al_b32_variant variant, size_t maxlen);

/* Decode `len` bytes at `str` (any bytes: a NUL or non-ASCII byte is an invalid
 * character, not a terminator). On success the HRP is written in lower case plus NUL
 * to `hrp` (`hrpcap` bytes), the data values without the checksum to `data`
 * (`datacap` values, *datalen set), and *variant says which checksum matched.
 *
 * Errors, in the order they are checked, each naming one BIP 173 reason:
 *   AL_E_B32_LENGTH    longer than AL_B32_MAXLEN ("overall max length exceeded")
 *   AL_E_B32_CHAR      a byte outside 33..126 ("HRP character out of range")
 *   AL_E_B32_CASE      both upper and lower case ("Mixed case")
 *   AL_E_B32_NO_SEP    no '1' ("No separator character")
 *   AL_E_B32_HRP       nothing before the last '1' ("Empty HRP")
 *   AL_E_B32_LENGTH    fewer than 6 characters after it ("Too short checksum")
 *   AL_E_B32_CHAR      a data character outside the alphabet ("Invalid data
 *                      character", "Invalid character in checksum")
 *   AL_E_B32_CHECKSUM  neither constant matches ("Invalid checksum")
 * and AL_E_BUFSIZE if the HRP or data do not fit the caller's buffers. */
AL_WARN_UNUSED al_err al_b32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t datacap,
                                    size_t *datalen, al_b32_variant *variant, const char *str,
                                    size_t len);
/* The same with a caller-chosen length limit. */
AL_WARN_UNUSED al_err al_b32_decode_long(char *hrp, size_t hrpcap, uint8_t *data, size_t datacap,
                                         size_t *datalen, al_b32_variant *variant, const char *str,
                                         size_t len, size_t maxlen);

/* Regroup bits: 8 -> 5 (`pad` true: the last group is zero-padded, as encoders do)
 * or 5 -> 8 (`pad` false: BIP 173 "Any incomplete group at the end MUST be 4 bits
 * or less, MUST be all zeroes, and is discarded", else AL_E_B32_PADDING).
 * Input values must fit `frombits` (AL_E_ARG otherwise). *outlen gets the number of
 * groups; AL_E_BUFSIZE if they exceed `outcap`. */
AL_WARN_UNUSED al_err al_b32_convert_bits(uint8_t *out, size_t outcap, size_t *outlen,
                                          unsigned tobits, const uint8_t *in, size_t inlen,
                                          unsigned frombits, bool pad);

#endif
