/* Constant-time check, after libsecp256k1's ctime_tests: secret inputs are marked
 * undefined for valgrind's memcheck, which then reports every branch or memory
 * index that depends on them. Run under `valgrind --error-exitcode=1`
 * (CTest label `ctime`). Results that are public by design (a signature, a public
 * key, a success flag) are declassified explicitly before they are branched on. */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/secp.h"
#include "btc/bip32.h"
#include "btc/bip39.h"
#include "ln/keys.h"
#include "ln/noise.h"
#include "ln/peer.h"
#include "ln/shachain.h"
#include "ln/signer.h"
#include "ln/signer_int.h"
#include "store/seal.h"
#include "store/vss.h"
#include "crypto/rng.h"
#include "enclave/seal_sim.h"

#define SECRET(p, n)      VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define DECLASSIFY(x)     VALGRIND_MAKE_MEM_DEFINED(&(x), sizeof(x))
#define DECLASSIFYP(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int failures;

static al_noise noise_i, noise_r;

/* Move every pending byte from one engine's sendrec to the other's recvrec. */
static void pump(al_noise *from, al_noise *to)
{
	size_t n, room;
	const uint8_t *src;
	uint8_t *dst;

	while ((src = al_noise_sendrec_buf(from, &n)) && n) {
		dst = al_noise_recvrec_buf(to, &room);
		if (!dst || !room)
			return;
		if (room > n)
			room = n;
		memcpy(dst, src, room);
		if (al_noise_sendrec_ack(from, room) != AL_OK || al_noise_recvrec_ack(to, room))
			return;
	}
}

/* Move one manager's pending bytes on a connection into the other's. */
static void pump_peer(al_peer_mgr *from, al_peer_mgr *to, al_peer_conn conn)
{
	const uint8_t *buf;
	size_t n, used = 0;

	while ((buf = al_peer_send_buf(from, conn, &n)) && n) {
		if (al_peer_read(to, conn, buf, n, &used, 0) != AL_OK || used == 0)
			return;
		if (al_peer_send_ack(from, conn, used, 0) != AL_OK)
			return;
	}
}

static void expect(al_err e, const char *what)
{
	DECLASSIFY(e);
	if (e != AL_OK) {
		fprintf(stderr, "ctime: %s failed: %s\n", what, al_err_str(e));
		failures++;
	}
}

int main(void)
{
	static _Alignas(16) uint8_t mem[1 << 12];
	static const uint8_t seed[32] = {3};
	al_secp *secp;
	al_privkey k, k2;
	al_pubkey pub, pub2;
	al_ecdsa_sig sig;
	uint8_t msg[32] = {9}, out[64], schnorr[64], aux[32] = {5};
	uint8_t key[32], nonce[AL_AEAD_NONCE_LEN], pt[100], ct[116];
	al_xonly xo;

	if (al_secp_size() > sizeof(mem) || al_secp_create(&secp, mem, sizeof(mem), seed) != AL_OK)
		return 2;
	memset(k.k, 0x21, 32);
	memset(k2.k, 0x43, 32);
	expect(al_pubkey_from_privkey(secp, &pub2, &k2), "pubkey");

	/* ECDSA signing and public key derivation. */
	SECRET(&k, sizeof(k));
	expect(al_ecdsa_sign(secp, &sig, msg, &k), "ecdsa_sign");
	DECLASSIFY(sig);
	expect(al_ecdsa_sign_low_r(secp, &sig, msg, &k), "ecdsa_sign_low_r");
	DECLASSIFY(sig);
	expect(al_pubkey_from_privkey(secp, &pub, &k), "pubkey_from_privkey");
	DECLASSIFY(pub);
	expect(al_ecdsa_verify(secp, &sig, msg, &pub), "ecdsa_verify");

	/* ECDH (BOLT 8). */
	expect(al_ecdh(secp, out, &pub2, &k), "ecdh");
	DECLASSIFYP(out, 32);

	/* BIP 340. */
	expect(al_schnorr_sign(secp, schnorr, msg, sizeof(msg), &k, aux), "schnorr_sign");
	DECLASSIFYP(schnorr, 64);
	expect(al_xonly_from_privkey(secp, &xo, &k), "xonly");
	DECLASSIFY(xo);

	/* Tweaks (BOLT 3 key derivation). */
	SECRET(out, 32);
	expect(al_privkey_tweak_add(secp, &k, out), "privkey_tweak_add");
	expect(al_privkey_tweak_mul(secp, &k, out), "privkey_tweak_mul");

	/* Hashes, HMAC and AEAD with secret keys and data. */
	memset(key, 0x77, sizeof(key));
	memset(pt, 0x33, sizeof(pt));
	SECRET(key, sizeof(key));
	SECRET(pt, sizeof(pt));
	al_sha256(out, pt, sizeof(pt));
	expect(al_hmac_sha256(out, key, sizeof(key), pt, sizeof(pt)), "hmac_sha256");
	expect(al_hmac_sha512(out, key, sizeof(key), pt, sizeof(pt)), "hmac_sha512");
	expect(al_hkdf_sha256(out, 64, key, sizeof(key), pt, 32, NULL, 0), "hkdf");
	al_aead_bolt8_nonce(nonce, 7);
	expect(al_aead_seal(ct, key, nonce, NULL, 0, pt, sizeof(pt)), "aead_seal");
	DECLASSIFYP(ct, sizeof(ct));
	expect(al_aead_open(pt, key, nonce, NULL, 0, ct, sizeof(ct)), "aead_open");

	/* BIP 32: master key from a secret seed, hardened and normal derivation. */
	{
		uint8_t seed64[64];
		al_xkey master, child;
		const uint32_t path[] = {1017 | AL_BIP32_HARDENED, 1 | AL_BIP32_HARDENED, 0, 7};

		memset(seed64, 0x61, sizeof(seed64));
		SECRET(seed64, sizeof(seed64));
		expect(al_bip32_master(secp, &master, seed64, sizeof(seed64)), "bip32_master");
		DECLASSIFY(master.pub);
		expect(al_bip32_derive(secp, &child, &master, path, 4), "bip32_derive");
		DECLASSIFY(child.pub);
		al_xkey_clear(&master);
		al_xkey_clear(&child);
	}

	/* BIP 39: entropy to mnemonic, mnemonic back to entropy, mnemonic to seed. The
	 * word lookups must not index or branch on secret word values. */
	{
		uint8_t entropy[32], back[32], seed64[64];
		char words[AL_BIP39_MNEMONIC_BUFLEN];
		size_t n, len;

		memset(entropy, 0x5c, sizeof(entropy));
		SECRET(entropy, sizeof(entropy));
		expect(al_bip39_from_entropy(words, sizeof(words), entropy, sizeof(entropy)),
		       "bip39_from_entropy");
		/* The mnemonic's length is public (it is the size of what is stored);
		 * its letters are not. */
		DECLASSIFYP(words, sizeof(words));
		n = strlen(words);
		SECRET(words, n);
		expect(al_bip39_to_entropy(back, sizeof(back), &len, words, n), "bip39_to_entropy");
		expect(al_bip39_to_seed(seed64, words, n, "", 0), "bip39_to_seed");
	}

	/* BOLT 3: per-commitment secrets and the keys derived from them. */
	{
		uint8_t shaseed[32], secret[32];
		al_pubkey point;
		al_privkey base, derived;

		memset(shaseed, 0x19, sizeof(shaseed));
		memset(base.k, 0x29, sizeof(base.k));
		SECRET(shaseed, sizeof(shaseed));
		SECRET(&base, sizeof(base));
		expect(al_shachain_from_seed(secret, shaseed, 281474976710655ULL - 42),
		       "shachain_from_seed");
		expect(al_ln_per_commitment_point(secp, &point, secret), "per_commitment_point");
		DECLASSIFY(point);
		expect(al_ln_derive_privkey(secp, &derived, &base, &point), "derive_privkey");
		expect(al_ln_revocation_privkey(secp, &derived, &base, secret),
		       "revocation_privkey");
		al_privkey_clear(&derived);
	}

	/* BOLT 5: the signer's on-chain spends with its basepoint secrets secret (the
	 * counterparty's revealed per-commitment secret is public by then). */
	{
		static _Alignas(16) uint8_t smem[2][4096];
		uint8_t sseed[32], dest[22] = {0x00, 0x14}, prev[32], am[65536];
		al_signer_root root;
		al_signer *sg[2];
		al_signer_channel ch;
		al_ln_basepoints bp;
		al_signer_spend d;
		al_ecdsa_sig ssig;
		al_ln_htlc h;
		al_pubkey fund;
		al_arena a;
		al_tx tx;
		int j;

		for (j = 0; j < 2; j++) {
			memset(sseed, 0x31 + j, sizeof(sseed));
			expect(al_signer_root_init(&root, secp, sseed, 32, 1), "signer root");
			expect(al_signer_init(&sg[j], smem[j], sizeof(smem[j]), secp, &root, 1),
			       "signer init");
			al_signer_root_clear(&root);
		}
		memset(&ch, 0, sizeof(ch));
		ch.type = AL_LN_CHAN_ANCHORS;
		memset(ch.funding_txid, 0x44, 32);
		ch.funding_amount = al_sat_of(1000000);
		al_signer_basepoints(sg[1], &bp, &fund);
		ch.counterparty = bp;
		ch.counterparty_funding = fund;
		ch.holder_selected_delay = ch.counterparty_selected_delay = 144;
		expect(al_signer_ready(sg[0], &ch), "signer ready");
		expect(al_signer_set_destination(sg[0], dest, sizeof(dest)), "destination");
		/* Counterparty commitment 3 revoked, 4 held at point `bp.payment` (any point). */
		sg[0]->cp_revoked = 4;
		sg[0]->cp_next = 5;
		sg[0]->cp_has_point[0] = true;
		sg[0]->cp_point[0] = bp.payment;
		SECRET(&sg[0]->funding, sizeof(al_privkey));
		SECRET(&sg[0]->revocation, sizeof(al_privkey));
		SECRET(&sg[0]->htlc, sizeof(al_privkey));
		SECRET(&sg[0]->payment, sizeof(al_privkey));
		SECRET(&sg[0]->delayed, sizeof(al_privkey));
		memset(prev, 0x55, sizeof(prev));
		al_arena_init(&a, am, sizeof(am));
		expect(al_tx_init(&tx, &a, 2, 0, 1, 1), "tx");
		expect(al_tx_add_input(&tx, prev, 0, 1), "tx input");
		expect(al_tx_add_output(&tx, al_sat_of(5000), dest, sizeof(dest)), "tx output");
		memset(&h, 0, sizeof(h));
		h.amount = al_msat_of(6000000);
		h.cltv_expiry = 700;
		memset(&d, 0, sizeof(d));
		d.amount = al_sat_of(6000);
		for (j = 0; j < 5; j++) {
			d.kind = j == 0   ? AL_SIGNER_SPEND_ANCHOR
			         : j == 1 ? AL_SIGNER_SPEND_TO_REMOTE
			         : j == 2 ? AL_SIGNER_SPEND_CP_HTLC
			                  : AL_SIGNER_SPEND_REVOKED;
			d.commitment_number = j == 2 ? 4 : 3;
			d.point = bp.payment;
			d.htlc = j == 3 ? NULL : &h;
			memset(d.secret, 0x66, 32);
			expect(al_signer_sign_spend(sg[0], &a, &tx, &d, &ssig), "sign spend");
			DECLASSIFY(ssig);
		}
		al_signer_clear(sg[0]);
		al_signer_clear(sg[1]);
	}

	/* BOLT 8: both handshake roles with secret static and ephemeral keys, then
	 * messages both ways across a key rotation (every 1000 messages). */
	{
		al_privkey ls_i, e_i, ls_r, e_r;
		al_pubkey rs;
		size_t n, len;
		uint8_t *p;
		const uint8_t *m;

		memset(ls_i.k, 0x11, 32);
		memset(e_i.k, 0x12, 32);
		memset(ls_r.k, 0x21, 32);
		memset(e_r.k, 0x22, 32);
		expect(al_pubkey_from_privkey(secp, &rs, &ls_r), "noise rs");
		SECRET(&ls_i, sizeof(ls_i));
		SECRET(&e_i, sizeof(e_i));
		SECRET(&ls_r, sizeof(ls_r));
		SECRET(&e_r, sizeof(e_r));
		expect(al_noise_init_initiator(&noise_i, secp, &ls_i, &rs, &e_i), "noise init_i");
		expect(al_noise_init_responder(&noise_r, secp, &ls_r, &e_r), "noise init_r");
		pump(&noise_i, &noise_r); /* act one */
		pump(&noise_r, &noise_i); /* act two */
		pump(&noise_i, &noise_r); /* act three */
		for (n = 0; n < 1002; n++) {
			p = al_noise_sendapp_buf(&noise_i, &len);
			if (!p) {
				expect(AL_E_NOISE_STATE, "noise sendapp");
				break;
			}
			memset(p, (int)n, 32);
			SECRET(p, 32);
			expect(al_noise_sendapp_ack(&noise_i, 32), "noise sendapp_ack");
			pump(&noise_i, &noise_r);
			m = al_noise_recvapp_buf(&noise_r, &len);
			if (!m) {
				expect(AL_E_NOISE_STATE, "noise recvapp");
				break;
			}
			expect(al_noise_recvapp_ack(&noise_r), "noise recvapp_ack");
		}
		expect(al_noise_error(&noise_i, NULL), "noise initiator error");
		expect(al_noise_error(&noise_r, NULL), "noise responder error");
		al_noise_clear(&noise_i);
		al_noise_clear(&noise_r);
	}

	/* Storage: key derivation from the node seed, name obfuscation, sealing and
	 * opening a record (the value stays secret; the key name is public by design
	 * once the record authenticates). */
	{
		uint8_t nodeseed[64], name[AL_SEAL_NAME_LEN], value[48], rec[256];
		uint8_t rngseed[32] = {4};
		al_seal_keys sk;
		al_seal_view view;
		al_rng_chacha rs;
		al_rng rng;
		size_t reclen;

		memset(nodeseed, 0x3c, sizeof(nodeseed));
		memset(value, 0x4d, sizeof(value));
		al_rng_chacha_init(&rs, &rng, rngseed);
		SECRET(nodeseed, sizeof(nodeseed));
		SECRET(value, sizeof(value));
		expect(al_seal_keys_derive(&sk, nodeseed, sizeof(nodeseed)), "seal_keys_derive");
		expect(al_seal_name(&sk, name, "channels", "chan-1"), "seal_name");
		DECLASSIFYP(name, sizeof(name));
		expect(al_seal_record(&sk, &rng, rec, sizeof(rec), &reclen, "channels", "chan-1", 3,
		                      7, value, sizeof(value)),
		       "seal_record");
		DECLASSIFYP(rec, reclen);
		expect(al_seal_open(&sk, &view, rec, reclen, "channels", name, 3), "seal_open");
		al_seal_keys_clear(&sk);
	}

	/* The BOLT 1 peer manager: node keys and ephemeral keys through all three acts
	 * and the init exchange. */
	{
		static _Alignas(16) uint8_t pmem[2][1 << 20];
		al_peer_mgr *mi, *mr;
		al_peer_config cfg;
		al_arena ai, ar;
		al_privkey ei, er;
		al_peer_event ev;
		uint8_t rid[AL_PUBKEY_LEN];
		int round, connected = 0;

		al_peer_config_default(&cfg);
		cfg.max_peers = 1;
		cfg.max_pending_handshakes = 1;
		cfg.n_chains = 1;
		al_arena_init(&ai, pmem[0], sizeof(pmem[0]));
		al_arena_init(&ar, pmem[1], sizeof(pmem[1]));
		memset(cfg.node_key.k, 0x21, 32);
		SECRET(cfg.node_key.k, 32);
		expect(al_peer_mgr_init(&mi, &ai, secp, &cfg, 0), "peer_mgr_init");
		memset(cfg.node_key.k, 0x22, 32);
		SECRET(cfg.node_key.k, 32);
		expect(al_peer_mgr_init(&mr, &ar, secp, &cfg, 0), "peer_mgr_init");
		al_privkey_clear(&cfg.node_key);
		al_peer_node_id(mr, rid);
		DECLASSIFYP(rid, sizeof(rid));
		memset(ei.k, 0x23, 32);
		memset(er.k, 0x24, 32);
		SECRET(ei.k, 32);
		SECRET(er.k, 32);
		expect(al_peer_new_inbound(mr, 1, &er, 0), "peer_new_inbound");
		expect(al_peer_new_outbound(mi, 1, rid, &ei, 0), "peer_new_outbound");
		for (round = 0; round < 8; round++) {
			pump_peer(mi, mr, 1);
			pump_peer(mr, mi, 1);
		}
		while (al_peer_next_event(mi, &ev))
			connected += ev.kind == AL_PEER_EV_CONNECTED;
		while (al_peer_next_event(mr, &ev))
			connected += ev.kind == AL_PEER_EV_CONNECTED;
		if (connected != 2) {
			fprintf(stderr, "ctime: peer handshake did not complete\n");
			failures++;
		}
		al_privkey_clear(&ei);
		al_privkey_clear(&er);
		al_peer_mgr_clear(mi);
		al_peer_mgr_clear(mr);
	}

	/* Enclave sealing (platform sim): keys from the platform secret and measurement. */
	{
		uint8_t psecret[32], meas[32], snonce[12] = {9}, spt[40],
		                               blob[40 + AL_SEALSIM_OVERHEAD], back[40];
		al_sealsim ss;
		size_t blen, plen;

		memset(psecret, 0x6a, sizeof(psecret));
		memset(meas, 0x6b, sizeof(meas));
		memset(spt, 0x6c, sizeof(spt));
		SECRET(psecret, sizeof(psecret));
		SECRET(spt, sizeof(spt));
		al_sealsim_init(&ss, psecret, meas);
		expect(al_sealsim_seal(&ss, blob, sizeof(blob), &blen, "node-key", snonce, spt,
		                       sizeof(spt)),
		       "sealsim_seal");
		DECLASSIFYP(blob, blen);
		expect(al_sealsim_unseal(&ss, back, sizeof(back), &plen, "node-key", blob, blen),
		       "sealsim_unseal");
		al_sealsim_clear(&ss);
	}

	/* VSS: the storage identity key signs the Authorization header. */
	{
		al_privkey vk;
		char hdr[AL_VSS_AUTH_MAX + 1];
		size_t hlen;

		memset(vk.k, 0x5b, sizeof(vk.k));
		SECRET(vk.k, sizeof(vk.k));
		expect(al_vss_auth_sign(secp, hdr, sizeof(hdr), &hlen, &vk, 1763700000),
		       "vss_auth_sign");
		al_privkey_clear(&vk);
	}

	al_privkey_clear(&k);
	al_secp_destroy(secp);
	printf("ctime: %s\n", failures ? "FAILED" : "no secret-dependent branches reported");
	return failures ? 1 : 0;
}
