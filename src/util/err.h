/* Error values shared by every core module.
 *
 * Commands return al_err (AL_OK == 0); predicates return bool. Each failure names
 * exactly what was wrong, so that a bad peer, host, storage server or user gets a
 * precise answer and tests can check the reason a specification gives. */
#ifndef ALIGHT_UTIL_ERR_H
#define ALIGHT_UTIL_ERR_H

#define AL_ERR_LIST(X)                                                                             \
	X(AL_OK, "ok")                                                                             \
	/* generic */                                                                              \
	X(AL_E_ARG, "invalid argument")                                                            \
	X(AL_E_NOMEM, "arena exhausted")                                                           \
	X(AL_E_TRUNCATED, "input truncated")                                                       \
	X(AL_E_TRAILING, "trailing bytes after input")                                             \
	X(AL_E_BUFSIZE, "output buffer too small")                                                 \
	X(AL_E_HEX, "invalid hex")                                                                 \
	X(AL_E_RANGE, "value out of range")                                                        \
	X(AL_E_OVERFLOW, "arithmetic overflow")                                                    \
	X(AL_E_TOO_LARGE, "input too large")                                                       \
	/* crypto */                                                                               \
	X(AL_E_CRYPTO, "crypto library failure")                                                   \
	X(AL_E_PRIVKEY, "invalid private key")                                                     \
	X(AL_E_PUBKEY, "invalid public key")                                                       \
	X(AL_E_SIG_ENCODING, "invalid signature encoding")                                         \
	X(AL_E_SIG_INVALID, "signature verification failed")                                       \
	X(AL_E_SIG_HIGH_S, "signature is not low-S")                                               \
	X(AL_E_AEAD_AUTH, "authentication tag mismatch")                                           \
	X(AL_E_TWEAK, "tweak out of range or result is infinity")                                  \
	/* bitcoin transactions and scripts */                                                     \
	X(AL_E_TX_SEGWIT_FLAG, "transaction: invalid segwit flag")                                 \
	X(AL_E_TX_EMPTY_WITNESS, "transaction: segwit marker with no witness data")                \
	X(AL_E_TX_COUNT, "transaction: element count too large")                                   \
	X(AL_E_TX_NONCANONICAL, "transaction: non-canonical compact size")                         \
	X(AL_E_TX_AMOUNT, "transaction: output amount out of range")                               \
	X(AL_E_SIGHASH_TYPE, "unsupported sighash type")                                           \
	X(AL_E_SIGHASH_INPUT, "sighash: input index out of range")                                 \
	X(AL_E_SCRIPT_SIZE, "script too large")                                                    \
	/* script interpreter (texts as Bitcoin Core's ScriptErrorString words them) */            \
	X(AL_E_SCRIPT_EVAL_FALSE,                                                                  \
	  "Script evaluated without error but finished with a false/empty top stack element")      \
	X(AL_E_SCRIPT_OP_RETURN, "OP_RETURN was encountered")                                      \
	X(AL_E_SCRIPT_PUSH_SIZE, "Push value size limit exceeded")                                 \
	X(AL_E_SCRIPT_OP_COUNT, "Operation limit exceeded")                                        \
	X(AL_E_SCRIPT_STACK_SIZE, "Stack size limit exceeded")                                     \
	X(AL_E_SCRIPT_SIG_COUNT, "Signature count negative or greater than pubkey count")          \
	X(AL_E_SCRIPT_PUBKEY_COUNT, "Pubkey count negative or limit exceeded")                     \
	X(AL_E_SCRIPT_VERIFY, "Script failed an OP_VERIFY operation")                              \
	X(AL_E_SCRIPT_EQUALVERIFY, "Script failed an OP_EQUALVERIFY operation")                    \
	X(AL_E_SCRIPT_CHECKMULTISIGVERIFY, "Script failed an OP_CHECKMULTISIGVERIFY operation")    \
	X(AL_E_SCRIPT_CHECKSIGVERIFY, "Script failed an OP_CHECKSIGVERIFY operation")              \
	X(AL_E_SCRIPT_NUMEQUALVERIFY, "Script failed an OP_NUMEQUALVERIFY operation")              \
	X(AL_E_SCRIPT_BAD_OPCODE, "Opcode missing or not understood")                              \
	X(AL_E_SCRIPT_DISABLED, "Attempted to use a disabled opcode")                              \
	X(AL_E_SCRIPT_STACK, "Operation not valid with the current stack size")                    \
	X(AL_E_SCRIPT_ALTSTACK, "Operation not valid with the current altstack size")              \
	X(AL_E_SCRIPT_UNBALANCED_IF, "Invalid OP_IF construction")                                 \
	X(AL_E_SCRIPT_NUM, "Script number overflow or not minimally encoded")                      \
	X(AL_E_SCRIPT_NEGATIVE_LOCKTIME, "Negative locktime")                                      \
	X(AL_E_SCRIPT_LOCKTIME, "Locktime requirement not satisfied")                              \
	X(AL_E_SCRIPT_SEQUENCE, "Relative locktime requirement not satisfied")                     \
	X(AL_E_SCRIPT_SIG_HASHTYPE, "Signature hash type missing or not understood")               \
	X(AL_E_SCRIPT_SIG_DER, "Non-canonical DER signature")                                      \
	X(AL_E_SCRIPT_SIG_HIGH_S, "Non-canonical signature: S value is unnecessarily high")        \
	X(AL_E_SCRIPT_SIG_NULLDUMMY, "Dummy CHECKMULTISIG argument must be zero")                  \
	X(AL_E_SCRIPT_SIG_PUSHONLY, "Only push operators allowed in signatures")                   \
	X(AL_E_SCRIPT_MINIMALDATA, "Data push larger than necessary")                              \
	X(AL_E_SCRIPT_MINIMALIF, "OP_IF/NOTIF argument must be minimal")                           \
	X(AL_E_SCRIPT_NULLFAIL, "Signature must be zero for failed CHECK(MULTI)SIG operation")     \
	X(AL_E_SCRIPT_UPGRADABLE_NOP, "NOPx reserved for soft-fork upgrades")                      \
	X(AL_E_SCRIPT_PUBKEYTYPE, "Public key is neither compressed or uncompressed")              \
	X(AL_E_SCRIPT_WITNESS_PUBKEYTYPE, "Using non-compressed keys in segwit")                   \
	X(AL_E_SCRIPT_CLEANSTACK, "Stack size must be exactly one after execution")                \
	X(AL_E_SCRIPT_WITNESS_LENGTH, "Witness program has incorrect length")                      \
	X(AL_E_SCRIPT_WITNESS_EMPTY, "Witness program was passed an empty witness")                \
	X(AL_E_SCRIPT_WITNESS_MISMATCH, "Witness program hash mismatch")                           \
	X(AL_E_SCRIPT_WITNESS_MALLEATED, "Witness requires empty scriptSig")                       \
	X(AL_E_SCRIPT_WITNESS_MALLEATED_P2SH, "Witness requires only-redeemscript scriptSig")      \
	X(AL_E_SCRIPT_WITNESS_UPGRADABLE, "Witness version reserved for soft-fork upgrades")       \
	X(AL_E_SCRIPT_UNSUPPORTED, "Spent output type not supported (legacy script or taproot)")   \
	/* bech32 / addresses / base58 */                                                          \
	X(AL_E_B32_CHAR, "bech32: invalid character")                                              \
	X(AL_E_B32_CASE, "bech32: mixed case")                                                     \
	X(AL_E_B32_NO_SEP, "bech32: missing separator")                                            \
	X(AL_E_B32_HRP, "bech32: invalid human-readable part")                                     \
	X(AL_E_B32_LENGTH, "bech32: invalid length")                                               \
	X(AL_E_B32_CHECKSUM, "bech32: invalid checksum")                                           \
	X(AL_E_B32_PADDING, "bech32: invalid padding")                                             \
	X(AL_E_ADDR_HRP, "address: wrong network prefix")                                          \
	X(AL_E_ADDR_WITVER, "address: invalid witness version")                                    \
	X(AL_E_ADDR_PROGLEN, "address: invalid witness program length")                            \
	X(AL_E_ADDR_VARIANT, "address: wrong checksum variant for witness version")                \
	X(AL_E_ADDR_EMPTY, "address: empty data section (no witness version)")                     \
	X(AL_E_B58_CHAR, "base58: invalid character")                                              \
	X(AL_E_B58_CHECKSUM, "base58: invalid checksum")                                           \
	/* BIP32 / BIP39 */                                                                        \
	X(AL_E_BIP32_LENGTH, "bip32: invalid extended key length")                                 \
	X(AL_E_BIP32_VERSION, "bip32: unknown version")                                            \
	X(AL_E_BIP32_KEY, "bip32: invalid key data")                                               \
	X(AL_E_BIP32_MISMATCH, "bip32: version does not match key type")                           \
	X(AL_E_BIP32_DEPTH, "bip32: inconsistent depth, fingerprint or index")                     \
	X(AL_E_BIP32_HARDENED, "bip32: hardened derivation from a public key")                     \
	X(AL_E_BIP32_PATH, "bip32: invalid derivation path")                                       \
	X(AL_E_BIP39_WORDS, "bip39: invalid word count")                                           \
	X(AL_E_BIP39_WORD, "bip39: unknown word")                                                  \
	X(AL_E_BIP39_CHECKSUM, "bip39: invalid checksum")                                          \
	X(AL_E_BIP39_ENTROPY, "bip39: invalid entropy length")                                     \
	X(AL_E_BIP39_ASCII, "bip39: non-ASCII input (NFKD not supported)")                         \
	/* BOLT 1 */                                                                               \
	X(AL_E_BIGSIZE_NONCANONICAL, "bigsize: not canonical")                                     \
	X(AL_E_TLV_ORDER, "tlv: types not strictly increasing")                                    \
	X(AL_E_TLV_UNKNOWN_EVEN, "tlv: unknown even type")                                         \
	X(AL_E_TLV_LENGTH, "tlv: length exceeds the remaining stream")                             \
	X(AL_E_TLV_VALUE_LENGTH, "tlv: length does not match the type's encoding")                 \
	X(AL_E_TLV_VALUE, "tlv: invalid value")                                                    \
	X(AL_E_TLV_NONMINIMAL, "tlv: non-minimal truncated integer")                               \
	/* BOLT 1/9 wire */                                                                        \
	X(AL_E_WIRE_TOO_SHORT, "wire: message shorter than its type field")                        \
	X(AL_E_WIRE_TYPE, "wire: message type does not match the decoder")                         \
	X(AL_E_WIRE_UNKNOWN_EVEN, "wire: unknown even message type")                               \
	X(AL_E_WIRE_CHAIN, "wire: init networks share no chain with ours")                         \
	X(AL_E_WIRE_FEATURES, "features: peer requires an unknown (even) feature bit")             \
	X(AL_E_WIRE_FEATURE_DEPS, "features: a set feature lacks a feature it depends on")         \
	/* BOLT 3 */                                                                               \
	X(AL_E_SHACHAIN_INDEX, "shachain: index out of order")                                     \
	X(AL_E_SHACHAIN_MISMATCH, "shachain: secret does not derive earlier secrets")              \
	X(AL_E_SHACHAIN_UNKNOWN, "shachain: secret not received yet")                              \
	X(AL_E_FEE, "fee exceeds funder's balance")                                                \
	X(AL_E_CHANNEL_BALANCE, "channel balances do not add up")                                  \
	/* encrypted key-value store */                                                            \
	X(AL_E_STORE_TAMPERED, "store: record failed authentication (modified or forged)")         \
	X(AL_E_STORE_SWAPPED, "store: record belongs to another key")                              \
	X(AL_E_STORE_TRUNCATED, "store: record truncated")                                         \
	X(AL_E_STORE_FORMAT, "store: unknown record format")                                       \
	X(AL_E_STORE_VERSION, "store: version conflict")                                           \
	X(AL_E_STORE_ROLLBACK, "store: older than a version already seen (rollback)")              \
	X(AL_E_STORE_NOT_FOUND, "store: no such key")                                              \
	X(AL_E_STORE_BACKEND, "store: backend failure")                                            \
	X(AL_E_STORE_REPLICAS, "store: too few replicas in agreement")                             \
	/* BOLT 8 */                                                                               \
	X(AL_E_NOISE_VERSION, "bolt8: unknown handshake version")                                  \
	X(AL_E_NOISE_PUBKEY, "bolt8: invalid public key in a handshake act")                       \
	X(AL_E_NOISE_MAC, "bolt8: MAC check failed")                                               \
	X(AL_E_NOISE_STATE, "bolt8: call not valid in the engine's state")                         \
	X(AL_E_NOISE_LENGTH, "bolt8: message longer than 65535 bytes")

typedef enum al_err {
#define AL_ERR_ENUM(name, text) name,
	AL_ERR_LIST(AL_ERR_ENUM)
#undef AL_ERR_ENUM
	    AL_E_COUNT_
} al_err;

/* A static, human-readable description; never NULL. */
const char *al_err_str(al_err e);
/* The symbolic name ("AL_E_TRUNCATED"); never NULL. */
const char *al_err_name(al_err e);

#if defined(__GNUC__)
#define AL_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define AL_WARN_UNUSED
#endif

/* Propagate an error from a call that returns al_err. */
#define AL_TRY(expr)                                                                               \
	do {                                                                                       \
		al_err al_try_e_ = (expr);                                                         \
		if (al_try_e_ != AL_OK)                                                            \
			return al_try_e_;                                                          \
	} while (0)

#endif
