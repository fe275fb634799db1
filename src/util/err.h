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
	/* host side (files, sockets, processes) */                                                \
	X(AL_E_HOST_IO, "host: system call failed")                                                \
	X(AL_E_HOST_FULL, "host: connection table full")                                           \
	X(AL_E_HOST_STORE_BUSY, "host: remote store's request queue full")                         \
	X(AL_E_HOST_STORE_CLOSED, "host: remote store shut down before the request ran")           \
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
	X(AL_E_SCRIPT_UNSUPPORTED, "Taproot spend needs every spent output")                       \
	X(AL_E_SCRIPT_WITNESS_UNEXPECTED, "Witness provided for non-witness script")               \
	X(AL_E_SCRIPT_SIG_FINDANDDELETE, "Signature is found in scriptCode")                       \
	X(AL_E_SCRIPT_OP_CODESEPARATOR, "Using OP_CODESEPARATOR in non-witness script")            \
	X(AL_E_SCRIPT_SCHNORR_SIG_SIZE, "Invalid Schnorr signature size")                          \
	X(AL_E_SCRIPT_SCHNORR_SIG_HASHTYPE, "Invalid Schnorr signature hash type")                 \
	X(AL_E_SCRIPT_SCHNORR_SIG, "Invalid Schnorr signature")                                    \
	X(AL_E_SCRIPT_TAPROOT_CONTROL_SIZE, "Invalid Taproot control block size")                  \
	X(AL_E_SCRIPT_TAP_WEIGHT, "Too much signature validation relative to witness weight")      \
	X(AL_E_SCRIPT_TAP_MULTISIG, "OP_CHECKMULTISIG(VERIFY) is not available in tapscript")      \
	X(AL_E_SCRIPT_TAP_MINIMALIF, "OP_IF/NOTIF argument must be minimal in tapscript")          \
	X(AL_E_SCRIPT_TAP_EMPTY_PUBKEY, "Empty public key in tapscript")                           \
	X(AL_E_SCRIPT_UPGRADABLE_TAPVER, "Taproot version reserved for soft-fork upgrades")        \
	X(AL_E_SCRIPT_UPGRADABLE_OP_SUCCESS, "OP_SUCCESSx reserved for soft-fork upgrades")        \
	X(AL_E_SCRIPT_UPGRADABLE_KEYTYPE, "Public key version reserved for soft-fork upgrades")    \
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
	/* BOLT 2 channel signer (ln/signer.h) */                                                  \
	X(AL_E_SIGNER_NOT_READY, "signer: channel funding not set up")                             \
	X(AL_E_SIGNER_TX, "signer: transaction does not match the channel")                        \
	X(AL_E_SIGNER_REVOKED, "signer: commitment already revoked")                               \
	X(AL_E_SIGNER_NOT_SIGNED, "signer: next commitment not yet signed by the counterparty")    \
	X(AL_E_SIGNER_SEQUENCE, "signer: commitment number out of sequence")                       \
	X(AL_E_SIGNER_CONFLICT, "signer: another transaction was signed for this commitment")      \
	X(AL_E_SIGNER_UNREVOKED, "signer: counterparty has not revoked its previous commitment")   \
	X(AL_E_SIGNER_BROADCAST, "signer: commitment signed for broadcast, not revoking it")       \
	X(AL_E_SIGNER_CLOSED, "signer: channel closing, no new commitments")                       \
	X(AL_E_SIGNER_SECRET, "signer: per-commitment secret does not match its point")            \
	/* BOLT 2 channel state machine (ln/channel.h) */                                          \
	X(AL_E_CHAN_STATE, "channel: not possible in the channel's state")                         \
	X(AL_E_CHAN_BUSY, "channel: effect queue full, deliver effects first")                     \
	X(AL_E_CHAN_FAILED, "channel: failed (sticky channel error)")                              \
	X(AL_E_CHAN_NOT_CONNECTED, "channel: peer not connected or not reestablished")             \
	X(AL_E_CHAN_UNKNOWN_HTLC, "channel: no such HTLC")                                         \
	X(AL_E_CHAN_HTLC_AMOUNT, "channel: HTLC amount zero or below htlc_minimum_msat")           \
	X(AL_E_CHAN_HTLC_CLTV, "channel: cltv_expiry is not a block height")                       \
	X(AL_E_CHAN_HTLC_COUNT, "channel: more HTLCs than max_accepted_htlcs")                     \
	X(AL_E_CHAN_HTLC_IN_FLIGHT, "channel: HTLC value over max_htlc_value_in_flight_msat")      \
	X(AL_E_CHAN_HTLC_ID, "channel: HTLC id out of sequence")                                   \
	X(AL_E_CHAN_HTLC_STATE, "channel: HTLC not irrevocably committed or already removed")      \
	X(AL_E_CHAN_RESERVE, "channel: sender cannot afford it and keep its channel reserve")      \
	X(AL_E_CHAN_FEE_SPIKE, "channel: no room for the fee spike buffer")                        \
	X(AL_E_CHAN_DUST_EXPOSURE, "channel: dust HTLC exposure over the limit")                   \
	X(AL_E_CHAN_FEERATE, "channel: feerate too low or unreasonably large")                     \
	X(AL_E_CHAN_NOT_FUNDER, "channel: update_fee from the node that does not pay the fee")     \
	X(AL_E_CHAN_NOTHING_TO_SIGN, "channel: commitment_signed without any update")              \
	X(AL_E_CHAN_AWAIT_REVOKE, "channel: waiting for the peer's revoke_and_ack")                \
	X(AL_E_CHAN_SHUTDOWN, "channel: shutting down, no new HTLCs")                              \
	X(AL_E_CHAN_SCRIPT, "channel: shutdown scriptpubkey not an accepted form")                 \
	X(AL_E_CHAN_PREIMAGE, "channel: payment_preimage does not hash to payment_hash")           \
	X(AL_E_CHAN_BADONION, "channel: update_fail_malformed_htlc without the BADONION bit")      \
	X(AL_E_CHAN_REASON_SIZE, "channel: update_fail_htlc reason longer than 1366 bytes")        \
	X(AL_E_CHAN_COMMIT_SIG, "channel: commitment signature invalid")                           \
	X(AL_E_CHAN_HTLC_SIG, "channel: HTLC signature invalid")                                   \
	X(AL_E_CHAN_HTLC_SIG_COUNT,                                                                \
	  "channel: num_htlcs differs from the commitment's HTLC outputs")                         \
	X(AL_E_CHAN_REVOCATION, "channel: per_commitment_secret does not match the commitment")    \
	X(AL_E_CHAN_UNEXPECTED, "channel: message not expected in the channel's state")            \
	X(AL_E_CHAN_CHANNEL_ID, "channel: message for another channel")                            \
	X(AL_E_CHAN_CHAIN, "channel: chain_hash of an unknown chain")                              \
	X(AL_E_CHAN_TYPE, "channel: channel_type missing or not acceptable")                       \
	X(AL_E_CHAN_FUNDING_AMOUNT, "channel: funding_satoshis outside the accepted range")        \
	X(AL_E_CHAN_PUSH, "channel: push_msat greater than funding_satoshis * 1000")               \
	X(AL_E_CHAN_DUST_LIMIT, "channel: dust_limit_satoshis outside the accepted range")         \
	X(AL_E_CHAN_RESERVE_PARAM, "channel: channel_reserve_satoshis unacceptable")               \
	X(AL_E_CHAN_TO_SELF_DELAY, "channel: to_self_delay unreasonably large")                    \
	X(AL_E_CHAN_MAX_HTLCS, "channel: max_accepted_htlcs out of range")                         \
	X(AL_E_CHAN_HTLC_MINIMUM, "channel: htlc_minimum_msat too large")                          \
	X(AL_E_CHAN_IN_FLIGHT_PARAM, "channel: max_htlc_value_in_flight_msat too small")           \
	X(AL_E_CHAN_MIN_DEPTH, "channel: minimum_depth unreasonably large")                        \
	X(AL_E_CHAN_INITIAL_BALANCE, "channel: initial commitment cannot pay its fee or reserve")  \
	X(AL_E_CHAN_FUNDING_TX, "channel: funding transaction does not pay the funding output")    \
	X(AL_E_CHAN_REESTABLISH, "channel: channel_reestablish numbers do not match our state")    \
	X(AL_E_CHAN_DATA_LOSS, "channel: peer proved our state is old, we must not broadcast")     \
	X(AL_E_CHAN_PEER_ERROR, "channel: peer sent an error for the channel")                     \
	X(AL_E_CHAN_CLOSING_FEE, "channel: closing fee outside the negotiated range")              \
	X(AL_E_CHAN_CLOSING_SIG, "channel: closing signature valid for no closing transaction")    \
	X(AL_E_CHAN_HTLC_TIMEOUT, "channel: an HTLC reached its expiry, going on-chain")           \
	X(AL_E_CHAN_FORCE_CLOSE, "channel: force-closed on request")                               \
	X(AL_E_CHAN_FUNDING_SPENT, "channel: funding output spent on-chain")                       \
	X(AL_E_CHAN_RECORD, "channel: record malformed or inconsistent")                           \
	X(AL_E_CHAN_RECORD_VERSION, "channel: record of an unknown version")                       \
	/* BOLT 5 on-chain enforcement (ln/onchain.h) and its signer operations */                 \
	X(AL_E_ONCHAIN_STATE, "onchain: not possible in the engine's state")                       \
	X(AL_E_ONCHAIN_FAILED, "onchain: failed (sticky error)")                                   \
	X(AL_E_ONCHAIN_UNRELATED, "onchain: transaction spends nothing the engine watches")        \
	X(AL_E_ONCHAIN_MONITOR, "onchain: monitor entry malformed or not this transaction's")      \
	X(AL_E_ONCHAIN_CONFLICT, "onchain: conflicts with a confirmed transaction")                \
	X(AL_E_ONCHAIN_UNKNOWN_HTLC, "onchain: preimage of no HTLC of the channel")                \
	X(AL_E_ONCHAIN_FULL, "onchain: table full")                                                \
	X(AL_E_ONCHAIN_CLAIM, "onchain: no claim waiting for that")                                \
	X(AL_E_ONCHAIN_INPUT, "onchain: wallet input not P2WPKH, already used, or too many")       \
	X(AL_E_ONCHAIN_WITNESS, "onchain: wallet-signed transaction not the one built or invalid") \
	X(AL_E_ONCHAIN_RECORD, "onchain: record malformed or inconsistent")                        \
	X(AL_E_ONCHAIN_RECORD_VERSION, "onchain: record of an unknown version")                    \
	X(AL_E_ONCHAIN_SIGN_DEST, "signer: output does not pay the sweep destination")             \
	X(AL_E_ONCHAIN_SIGN_REVOKED, "signer: our commitment not broadcast, or revoked")           \
	X(AL_E_ONCHAIN_SIGN_COMMITMENT, "signer: not an unrevoked counterparty commitment")        \
	X(AL_E_ONCHAIN_SIGN_UNREVOKED, "signer: counterparty commitment not revoked")              \
	X(AL_E_ONCHAIN_SIGN_TX, "signer: transaction does not spend what the descriptor names")    \
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
	X(AL_E_STORE_STATE, "store: not ready for this (loading, a write in flight, or failed)")   \
	X(AL_E_STORE_FULL, "store: object table full")                                             \
	/* VSS storage service protocol (store/vss.h) */                                           \
	X(AL_E_VSS_CONFLICT, "vss: version conflict (CONFLICT_EXCEPTION)")                         \
	X(AL_E_VSS_NO_SUCH_KEY, "vss: no such key (NO_SUCH_KEY_EXCEPTION)")                        \
	X(AL_E_VSS_AUTH, "vss: authentication failed (AUTH_EXCEPTION)")                            \
	X(AL_E_VSS_INVALID, "vss: invalid request (INVALID_REQUEST_EXCEPTION)")                    \
	X(AL_E_VSS_SERVER, "vss: internal server error (INTERNAL_SERVER_EXCEPTION)")               \
	X(AL_E_VSS_TOO_LARGE, "vss: request body too large")                                       \
	X(AL_E_VSS_HTTP, "vss: unexpected HTTP status without an error response")                  \
	X(AL_E_VSS_DECODE, "vss: malformed protobuf message")                                      \
	X(AL_E_VSS_RESPONSE, "vss: response violates the protocol")                                \
	X(AL_E_VSS_STRING, "vss: string not valid UTF-8 or contains NUL")                          \
	X(AL_E_VSS_KEY, "vss: key empty, too long or reserved")                                    \
	X(AL_E_VSS_VERSION, "vss: version below -1")                                               \
	X(AL_E_VSS_ITEMS, "vss: more than 1000 items in one putObjects")                           \
	X(AL_E_VSS_DUPLICATE, "vss: putObjects items must have distinct keys")                     \
	X(AL_E_VSS_PAGE, "vss: invalid page size or page token")                                   \
	X(AL_E_VSS_AUTH_MISSING, "vss auth: Authorization header missing")                         \
	X(AL_E_VSS_AUTH_FORMAT, "vss auth: malformed Authorization header")                        \
	X(AL_E_VSS_AUTH_KEY, "vss auth: invalid public key")                                       \
	X(AL_E_VSS_AUTH_SIG, "vss auth: signature does not verify")                                \
	X(AL_E_VSS_AUTH_TIME, "vss auth: timestamp more than 24 h from now")                       \
	/* BOLT 8 */                                                                               \
	X(AL_E_NOISE_VERSION, "bolt8: unknown handshake version")                                  \
	X(AL_E_NOISE_PUBKEY, "bolt8: invalid public key in a handshake act")                       \
	X(AL_E_NOISE_MAC, "bolt8: MAC check failed")                                               \
	X(AL_E_NOISE_STATE, "bolt8: call not valid in the engine's state")                         \
	X(AL_E_NOISE_LENGTH, "bolt8: message longer than 65535 bytes")                             \
	/* BOLT 1 peer manager (ln/peer.h) */                                                      \
	X(AL_E_PEER_HANDSHAKES_FULL, "peer: too many handshakes in progress")                      \
	X(AL_E_PEER_POOL_FULL, "peer: no free connection slot in the shared pool")                 \
	X(AL_E_PEER_TOO_MANY, "peer: connection limit reached")                                    \
	X(AL_E_PEER_CONN_EXISTS, "peer: connection id already in use")                             \
	X(AL_E_PEER_UNKNOWN_CONN, "peer: no such connection")                                      \
	X(AL_E_PEER_NOT_CONNECTED, "peer: no connected peer with that node id")                    \
	X(AL_E_PEER_ALREADY_CONNECTED, "peer: already connected to that node")                     \
	X(AL_E_PEER_NOT_READY, "peer: init not exchanged yet")                                     \
	X(AL_E_PEER_CLOSING, "peer: connection is closing")                                        \
	X(AL_E_PEER_QUEUE_FULL, "peer: send queue full")                                           \
	X(AL_E_PEER_RESERVED_TYPE, "peer: message type reserved to the peer manager")              \
	X(AL_E_PEER_HANDSHAKE_TIMEOUT, "peer: handshake timed out")                                \
	X(AL_E_PEER_INIT_TIMEOUT, "peer: init not received in time")                               \
	X(AL_E_PEER_PONG_TIMEOUT, "peer: ping not answered in time")                               \
	X(AL_E_PEER_IDLE_TIMEOUT, "peer: nothing received in time")                                \
	X(AL_E_PEER_FIRST_NOT_INIT, "peer: first message is not init")                             \
	X(AL_E_PEER_DUP_INIT, "peer: init received twice")                                         \
	X(AL_E_PEER_PONG_UNEXPECTED, "peer: pong matches no ping sent")                            \
	X(AL_E_PEER_PING_FLOOD, "peer: too many pings")                                            \
	X(AL_E_PEER_MISSING_FEATURE, "peer: lacks a feature we require")                           \
	X(AL_E_PEER_REMOTE_CLOSED, "peer: connection closed by the peer")                          \
	X(AL_E_PEER_LOCAL_CLOSE, "peer: connection closed by us")                                  \
	/* attestation evidence (attest/) */                                                       \
	X(AL_E_ATT_FORMAT, "attest: malformed evidence")                                           \
	X(AL_E_ATT_UNSUPPORTED, "attest: unsupported evidence type, version or algorithm")         \
	X(AL_E_ATT_PEM, "attest: malformed or non-canonical PEM")                                  \
	X(AL_E_ATT_DER, "attest: malformed DER")                                                   \
	X(AL_E_ATT_CBOR, "attest: malformed CBOR")                                                 \
	X(AL_E_ATT_JSON, "attest: malformed collateral or policy JSON")                            \
	X(AL_E_ATT_CERT, "attest: certificate cannot be parsed")                                   \
	X(AL_E_ATT_CHAIN, "attest: certificate chain does not verify")                             \
	X(AL_E_ATT_ROOT, "attest: chain does not end at the pinned root")                          \
	X(AL_E_ATT_SIMULATED, "attest: simulated evidence (alight simulation root CA)")            \
	X(AL_E_ATT_WINDOW, "attest: outside the validity window at the given time")                \
	X(AL_E_ATT_BINDING, "attest: report data does not bind the expected value")                \
	X(AL_E_ATT_MISMATCH, "attest: evidence does not match its collateral or certificate")      \
	X(AL_E_ATT_TCB, "attest: TCB level not supported or revoked")                              \
	X(AL_E_ATT_EXTENSION, "attest: required certificate extension missing or invalid")         \
	X(AL_E_ATT_MISSING, "attest: required input missing")                                      \
	X(AL_E_ATT_POLICY, "attest: rejected by the appraisal policy")                             \
	X(AL_E_ATT_DEBUG, "attest: debug mode enabled")                                            \
	/* HTTP/1.1 (RFC 9112) and URLs */                                                         \
	X(AL_E_HTTP_INCOMPLETE, "http: message incomplete (need more bytes)")                      \
	X(AL_E_HTTP_REQUEST_LINE, "http: malformed request line")                                  \
	X(AL_E_HTTP_METHOD, "http: invalid method token")                                          \
	X(AL_E_HTTP_TARGET, "http: invalid request target")                                        \
	X(AL_E_HTTP_VERSION, "http: unsupported or malformed HTTP version")                        \
	X(AL_E_HTTP_STATUS_LINE, "http: malformed status line")                                    \
	X(AL_E_HTTP_LINE_ENDING, "http: bare CR or LF (lines must end in CRLF)")                   \
	X(AL_E_HTTP_OBS_FOLD, "http: field line starts with whitespace (obs-fold)")                \
	X(AL_E_HTTP_HEADER_NAME, "http: invalid or empty field name")                              \
	X(AL_E_HTTP_SPACE_BEFORE_COLON, "http: whitespace between field name and colon")           \
	X(AL_E_HTTP_HEADER_VALUE, "http: invalid character in a field value")                      \
	X(AL_E_HTTP_HEAD_TOO_LARGE, "http: header section too large")                              \
	X(AL_E_HTTP_TOO_MANY_HEADERS, "http: too many header fields")                              \
	X(AL_E_HTTP_BODY_TOO_LARGE, "http: body too large")                                        \
	X(AL_E_HTTP_CONTENT_LENGTH, "http: invalid or repeated Content-Length")                    \
	X(AL_E_HTTP_CL_AND_TE, "http: both Content-Length and Transfer-Encoding (smuggling)")      \
	X(AL_E_HTTP_TRANSFER_ENCODING, "http: transfer coding other than a single chunked")        \
	X(AL_E_HTTP_CHUNK, "http: malformed chunked body")                                         \
	X(AL_E_HTTP_HOST, "http: HTTP/1.1 request without exactly one valid Host")                 \
	X(AL_E_HTTP_URL, "http: malformed URL")                                                    \
	X(AL_E_HTTP_URL_SCHEME, "http: URL scheme is not http or https")                           \
	/* TLS (crypto/tls.h) */                                                                   \
	X(AL_E_TLS_WANT, "tls: engine needs more bytes from the peer")                             \
	X(AL_E_TLS_PEM, "tls: invalid PEM certificate or key")                                     \
	X(AL_E_TLS_CONFIG, "tls: invalid configuration")                                           \
	X(AL_E_TLS_STATE, "tls: call not valid in the engine's state")                             \
	X(AL_E_TLS_HANDSHAKE, "tls: handshake failed")                                             \
	X(AL_E_TLS_ALERT, "tls: peer sent a fatal alert")                                          \
	X(AL_E_TLS_PROTOCOL, "tls: malformed record or protocol violation")                        \
	X(AL_E_TLS_VERIFY, "tls: peer certificate chain not trusted")                              \
	X(AL_E_TLS_HOSTNAME, "tls: certificate does not match the host name")                      \
	X(AL_E_TLS_PIN, "tls: peer public key does not match the pin")                             \
	X(AL_E_TLS_PEER_REJECTED, "tls: peer certificate rejected by the verify hook")             \
	X(AL_E_TLS_NO_PEER_CERT, "tls: peer sent no certificate")                                  \
	X(AL_E_TLS_CLOSED, "tls: connection closed by the peer (close_notify)")                    \
	X(AL_E_TLS_TRUNCATED, "tls: connection ended without close_notify")                        \
	/* host networking (host/httpd.h, host/httpc.h) */                                         \
	X(AL_E_NET_RESOLVE, "net: cannot resolve host name")                                       \
	X(AL_E_NET_CONNECT, "net: connection refused or unreachable")                              \
	X(AL_E_NET_LISTEN, "net: cannot listen on the address")                                    \
	X(AL_E_NET_IO, "net: socket error")                                                        \
	X(AL_E_NET_TIMEOUT, "net: timed out")                                                      \
	X(AL_E_NET_CLOSED, "net: connection closed by the peer")                                   \
	X(AL_E_NET_FILE, "net: cannot read a certificate, key or CA file")                         \
	/* chain: headers, proof of work, merkle trees, blocks */                                  \
	X(AL_E_CHAIN_BITS, "chain: invalid compact target (nBits)")                                \
	X(AL_E_CHAIN_POW, "chain: proof of work failed (high-hash)")                               \
	X(AL_E_CHAIN_MERKLE, "chain: merkle root mismatch (bad-txnmrklroot)")                      \
	X(AL_E_CHAIN_MUTATED,                                                                      \
	  "chain: duplicate transactions in the merkle tree (bad-txns-duplicate)")                 \
	X(AL_E_CHAIN_MERKLEBLOCK, "chain: malformed partial merkle tree")                          \
	X(AL_E_CHAIN_NO_TX, "chain: block has no transactions (bad-blk-length)")                   \
	X(AL_E_CHAIN_COINBASE, "chain: first transaction not the only coinbase (bad-cb-missing)")  \
	X(AL_E_CHAIN_CB_HEIGHT, "chain: coinbase does not start with the height (bad-cb-height)")  \
	X(AL_E_CHAIN_WITNESS_COMMIT,                                                               \
	  "chain: witness commitment mismatch (bad-witness-merkle-match)")                         \
	X(AL_E_CHAIN_WITNESS_UNEXPECTED,                                                           \
	  "chain: witness data without a commitment (unexpected-witness)")                         \
	X(AL_E_CHAIN_WEIGHT, "chain: block weight over the limit (bad-blk-weight)")                \
	X(AL_E_CHAIN_MERKLE_DEPTH,                                                                 \
	  "chain: merkle branch length is not the depth of the block's tree")                      \
	X(AL_E_CHAIN_MERKLE_POS, "chain: merkle proof position not in the block")                  \
	X(AL_E_CHAIN_MERKLE_PADDING, "chain: merkle branch breaks the duplicated-last-node rule")  \
	X(AL_E_CHAIN_MERKLE_INNER_TX,                                                              \
	  "chain: a merkle branch node's 64 bytes have the form of a transaction")                 \
	X(AL_E_CHAIN_TX64, "chain: 64-byte transaction (indistinguishable from a merkle node)")    \
	/* chain sync: Esplora responses (chain/esplora.h, chain/sync.h) */                        \
	X(AL_E_ESPLORA_STATUS, "esplora: unexpected HTTP status")                                  \
	X(AL_E_ESPLORA_JSON, "esplora: malformed JSON")                                            \
	X(AL_E_ESPLORA_FIELD, "esplora: missing, mistyped or out-of-range field")                  \
	X(AL_E_ESPLORA_TEXT, "esplora: malformed height or hash")                                  \
	X(AL_E_SYNC_TXID, "chain sync: transaction does not hash to its txid")                     \
	X(AL_E_SYNC_HEADER_HASH, "chain sync: header does not hash to the block hash asked for")   \
	X(AL_E_SYNC_NOT_CONNECTED, "chain sync: header does not connect to the header chain")      \
	X(AL_E_SYNC_TARGET, "chain sync: header target is not the network's")                      \
	X(AL_E_SYNC_LESS_WORK, "chain sync: branch has no more work than the current chain")       \
	X(AL_E_SYNC_TOO_DEEP, "chain sync: reorganisation deeper than the kept headers")           \
	X(AL_E_SYNC_HEIGHT, "chain sync: inconsistent heights")                                    \
	X(AL_E_SYNC_UNKNOWN_BLOCK, "chain sync: confirmation in a block outside the header chain") \
	X(AL_E_SYNC_TX_MISSING, "chain sync: a confirmed transaction is missing")                  \
	X(AL_E_SYNC_SPEND, "chain sync: reported spender does not spend the output")               \
	X(AL_E_SYNC_FULL, "chain sync: watch list or header store full")                           \
	X(AL_E_SYNC_STATE, "chain sync: no request is pending")                                    \
	X(AL_E_SYNC_BLOCK_INFO, "chain sync: block summary contradicts the header chain")          \
	X(AL_E_SYNC_CHAIN_MOVED,                                                                   \
	  "chain sync: the shared header chain moved under the step (run it again)")               \
	X(AL_E_SYNC_BUSY, "chain sync: another step took the shared header stage (run it again)")  \
	X(AL_E_SYNC_NO_CHECKPOINT, "chain sync: no checkpoint for this network")                   \
	/* enclave boundary, fixed heap, simulated sealing (src/enclave) */                        \
	X(AL_E_ENC_LOAD, "enclave: image cannot be loaded or lacks its entry point")               \
	X(AL_E_ENC_ABI, "enclave: ecall/ocall table version or size mismatch")                     \
	X(AL_E_ENC_STATE, "enclave: not initialised, already initialised or shut down")            \
	X(AL_E_ENC_FULL, "enclave: node or connection table full")                                 \
	X(AL_E_ENC_UNKNOWN, "enclave: no such node, connection or request")                        \
	X(AL_E_ENC_NOT_READY, "enclave: node key not persisted yet")                               \
	X(AL_E_ENC_REQUEST, "enclave: malformed or unknown API request")                           \
	X(AL_E_ENC_PENDING, "enclave: the answer follows later (api_done ocall)")                  \
	X(AL_E_ENC_ENTROPY, "enclave: the CPU gives no entropy (RDSEED/RDRAND)")                   \
	/* one user's node (node/node.h) */                                                        \
	X(AL_E_NODE_STATE, "node: not serving (loading, or failed)")                               \
	X(AL_E_NODE_BUSY, "node: too much work queued; try again")                                 \
	X(AL_E_NODE_FORBIDDEN, "node: only the user may do this, over the user's channel")         \
	X(AL_E_NODE_CHAIN, "node: no chain server set (the user sets one: POST /v1/chain)")        \
	X(AL_E_NODE_RECORD, "node: a stored record is malformed")                                  \
	X(AL_E_NODE_PEER, "node: the peer is not connected")                                       \
	X(AL_E_NODE_CHAN_FULL, "node: every channel slot is in use")                               \
	X(AL_E_NODE_CHAN_UNKNOWN, "node: no such channel")                                         \
	X(AL_E_SEAL_FORMAT, "seal: not a sealed blob or truncated")                                \
	X(AL_E_SEAL_MEASUREMENT, "seal: blob sealed by another enclave measurement")               \
	X(AL_E_SEAL_AUTH, "seal: blob failed authentication (modified or other platform)")         \
	/* on-chain wallet (wallet/wallet.h) */                                                    \
	X(AL_E_WALLET_FUNDS, "wallet: insufficient funds")                                         \
	X(AL_E_WALLET_DUST, "wallet: amount below the dust threshold")                             \
	X(AL_E_WALLET_FULL, "wallet: too many transactions or outputs")                            \
	X(AL_E_WALLET_UNKNOWN_TX, "wallet: no such wallet transaction")                            \
	X(AL_E_WALLET_CONFIRMED, "wallet: transaction already confirmed")                          \
	X(AL_E_WALLET_NOT_RBF, "wallet: transaction does not signal replaceability (BIP 125)")     \
	X(AL_E_WALLET_FEERATE, "wallet: replacement fee too low (BIP 125 rules 3 and 4)")          \
	X(AL_E_WALLET_FEE_RATE_CAP, "wallet: fee rate above the cap (override needed)")            \
	X(AL_E_WALLET_FEE_ABS_CAP, "wallet: fee above the absolute cap (override needed)")         \
	X(AL_E_WALLET_FEE_SHARE_CAP,                                                               \
	  "wallet: fee above the cap's share of the amount sent (override needed)")                \
	/* chain: transaction validation; texts are Bitcoin Core's reject reasons */               \
	X(AL_E_TXV_VIN_EMPTY, "bad-txns-vin-empty")                                                \
	X(AL_E_TXV_VOUT_EMPTY, "bad-txns-vout-empty")                                              \
	X(AL_E_TXV_OVERSIZE, "bad-txns-oversize")                                                  \
	X(AL_E_TXV_VOUT_NEGATIVE, "bad-txns-vout-negative")                                        \
	X(AL_E_TXV_VOUT_TOOLARGE, "bad-txns-vout-toolarge")                                        \
	X(AL_E_TXV_TXOUTTOTAL_TOOLARGE, "bad-txns-txouttotal-toolarge")                            \
	X(AL_E_TXV_INPUTS_DUPLICATE, "bad-txns-inputs-duplicate")                                  \
	X(AL_E_TXV_CB_LENGTH, "bad-cb-length")                                                     \
	X(AL_E_TXV_PREVOUT_NULL, "bad-txns-prevout-null")                                          \
	X(AL_E_TXV_COINBASE, "coinbase")                                                           \
	X(AL_E_TXV_VERSION, "version")                                                             \
	X(AL_E_TXV_SIZE_SMALL, "tx-size-small")                                                    \
	X(AL_E_TXV_SIZE, "tx-size")                                                                \
	X(AL_E_TXV_SCRIPTSIG_SIZE, "scriptsig-size")                                               \
	X(AL_E_TXV_SCRIPTSIG_PUSHONLY, "scriptsig-not-pushonly")                                   \
	X(AL_E_TXV_SCRIPTPUBKEY, "scriptpubkey")                                                   \
	X(AL_E_TXV_DUST, "dust")                                                                   \
	X(AL_E_TXV_MULTI_OP_RETURN, "multi-op-return")                                             \
	X(AL_E_TXV_NON_FINAL, "non-final")                                                         \
	X(AL_E_TXV_NON_BIP68_FINAL, "non-BIP68-final")                                             \
	X(AL_E_TXV_MISSING_INPUTS, "bad-txns-inputs-missingorspent")                               \
	X(AL_E_TXV_PREMATURE_COINBASE, "bad-txns-premature-spend-of-coinbase")                     \
	X(AL_E_TXV_INPUTVALUES, "bad-txns-inputvalues-outofrange")                                 \
	X(AL_E_TXV_IN_BELOWOUT, "bad-txns-in-belowout")                                            \
	X(AL_E_TXV_MIN_RELAY_FEE, "min relay fee not met")                                         \
	X(AL_E_TXV_SCRIPT_POLICY, "non-mandatory-script-verify-flag")                              \
	X(AL_E_TXV_SCRIPT_CONSENSUS, "mandatory-script-verify-flag-failed")                        \
	X(AL_E_TXV_MEMPOOL_CONFLICT, "txn-mempool-conflict")                                       \
	X(AL_E_TXV_IN_MEMPOOL, "txn-already-in-mempool")                                           \
	X(AL_E_TXV_ALREADY_KNOWN, "txn-already-known")                                             \
	X(AL_E_TXV_SPENDS_CONFLICTING, "bad-txns-spends-conflicting-tx")                           \
	X(AL_E_TXV_RBF_FEERATE, "insufficient fee")                                                \
	X(AL_E_TXV_RBF_TOO_MANY, "too many potential replacements")                                \
	X(AL_E_TXV_RBF_UNCONFIRMED, "replacement-adds-unconfirmed")                                \
	X(AL_E_TXV_RBF_LESS_FEES, "insufficient fee")                                              \
	X(AL_E_TXV_RBF_RELAY_FEE, "insufficient fee")

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
