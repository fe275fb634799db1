/* Script interpreter: opcodes, limits, locktimes, the witness program rules, and
 * every AL_E_SCRIPT_* code it can return. Scripts are written in hex, spaces
 * allowed; witness stacks as arrays of hex strings (bottom first). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "btc/interp.h"
#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "crypto/hash.h"
#include "test.h"

#define STD  AL_INTERP_STANDARD
#define CONS AL_INTERP_CONSENSUS

static uint8_t g_scratch[1 << 17];
static uint8_t g_txmem[1 << 14];
static al_tx g_tx;
static const uint8_t g_prev[32] = {0x42};

/* A one-input, one-output transaction to run scripts as its input. */
static void make_tx(uint32_t version, uint32_t locktime, uint32_t sequence)
{
	static const uint8_t out_script[] = {0x51};
	al_arena a;

	al_arena_init(&a, g_txmem, sizeof(g_txmem));
	CHECK_OK(al_tx_init(&g_tx, &a, version, locktime, 1, 1));
	CHECK_OK(al_tx_add_input(&g_tx, g_prev, 0, sequence));
	CHECK_OK(al_tx_add_output(&g_tx, al_sat_of(1000), out_script, sizeof(out_script)));
}

/* Hex with spaces into a static-lifetime buffer. */
static uint8_t *hx(const char *s, size_t *len)
{
	char buf[32768];
	size_t n = 0;

	for (; *s && n + 1 < sizeof(buf); s++)
		if (!isspace((unsigned char)*s))
			buf[n++] = *s;
	buf[n] = 0;
	return al_t_unhex(buf, len);
}

static al_err exec_items(const uint8_t *script, size_t len, const al_bytes *items, size_t n,
                         uint32_t flags)
{
	al_interp_fail why;
	al_arena a;
	al_err err;

	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	err = al_interp_exec_witness_script(al_t_secp(), &g_tx, 0, script, len, items, n,
	                                    al_sat_of(5000), flags, &a, &why);
	CHECK(why.err == err && al_arena_used(&a) == 0);
	return err;
}

/* Run a hex script over a hex stack. */
static al_err ex(const char *script, uint32_t flags, const char *const *stack, size_t n)
{
	al_bytes items[8];
	size_t i, len;
	uint8_t *s = hx(script, &len);

	for (i = 0; i < n && i < 8; i++)
		items[i].p = hx(stack[i], &items[i].len);
	return exec_items(s, len, items, n, flags);
}

#define RUN(script, flags)         ex(script, flags, NULL, 0)
#define RUN1(script, flags, item)  ex(script, flags, (const char *const[]){item}, 1)
#define EXPECT(script, flags, err) CHECK_ERR(RUN(script, flags), err)

static void test_push_and_constants(void)
{
	EXPECT("51", STD, AL_OK);
	EXPECT("00", STD, AL_E_SCRIPT_EVAL_FALSE);
	EXPECT("", STD, AL_E_SCRIPT_CLEANSTACK);
	EXPECT("5151", STD, AL_E_SCRIPT_CLEANSTACK);
	EXPECT("4f 8b 00 87", STD, AL_OK);              /* -1 + 1 == 0 */
	EXPECT("60 01 10 87", CONS, AL_OK);             /* OP_16 == push 0x10 */
	EXPECT("03 010203 82 53 88 75 51", STD, AL_OK); /* SIZE */
	EXPECT("4c 03 010203 75 51", CONS, AL_OK);      /* PUSHDATA1 */
	EXPECT("4d 0300 010203 75 51", CONS, AL_OK);    /* PUSHDATA2 */
	EXPECT("4e 03000000 010203 75 51", CONS, AL_OK);
	/* BIP 62 minimal pushes. */
	EXPECT("01 05", STD, AL_E_SCRIPT_MINIMALDATA);
	EXPECT("01 81 75 51", STD, AL_E_SCRIPT_MINIMALDATA);
	EXPECT("4c 01 aa", STD, AL_E_SCRIPT_MINIMALDATA);
	EXPECT("4d 0300 010203 75 51", STD, AL_E_SCRIPT_MINIMALDATA);
	EXPECT("01 05", CONS, AL_OK);
	/* Truncated pushes are a bad opcode. */
	EXPECT("4c", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("4d 05", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("4e 0100", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("05 0102", STD, AL_E_SCRIPT_BAD_OPCODE);
	/* Negative zero is false. */
	EXPECT("01 80", STD, AL_E_SCRIPT_EVAL_FALSE);
	EXPECT("02 0080", CONS, AL_E_SCRIPT_EVAL_FALSE);
	EXPECT("02 0180", CONS, AL_OK);
}

static void test_flow(void)
{
	EXPECT("51 63 52 67 53 68 52 88 51", STD, AL_OK);
	EXPECT("00 63 52 67 53 68 53 88 51", STD, AL_OK);
	EXPECT("00 64 52 67 53 68 52 88 51", STD, AL_OK);
	EXPECT("51 63 00 63 53 67 52 68 67 54 68 52 88 51", STD, AL_OK);
	EXPECT("51 63 52 67 53 67 54 68 54 88 52 88 51", STD, AL_OK); /* ELSE toggles */
	/* Unbalanced conditionals. */
	EXPECT("51 63 51", STD, AL_E_SCRIPT_UNBALANCED_IF);
	EXPECT("51 68", STD, AL_E_SCRIPT_UNBALANCED_IF);
	EXPECT("51 67", STD, AL_E_SCRIPT_UNBALANCED_IF);
	EXPECT("63 51 68", STD, AL_E_SCRIPT_UNBALANCED_IF);
	/* MINIMALIF: the argument is empty or exactly 0x01. */
	CHECK_ERR(RUN1("63 51 67 00 68", STD, "02"), AL_E_SCRIPT_MINIMALIF);
	CHECK_ERR(RUN1("63 51 67 00 68", STD, "0100"), AL_E_SCRIPT_MINIMALIF);
	CHECK_ERR(RUN1("64 51 67 00 68", STD, "02"), AL_E_SCRIPT_MINIMALIF);
	CHECK_ERR(RUN1("63 51 67 00 68", STD, "01"), AL_OK);
	CHECK_ERR(RUN1("63 00 67 51 68", STD, ""), AL_OK);
	CHECK_ERR(RUN1("63 51 67 00 68", CONS, "02"), AL_OK);
	/* VERIFY, RETURN. */
	EXPECT("51 69 51", STD, AL_OK);
	EXPECT("00 69 51", STD, AL_E_SCRIPT_VERIFY);
	EXPECT("69", STD, AL_E_SCRIPT_STACK);
	EXPECT("6a", STD, AL_E_SCRIPT_OP_RETURN);
	EXPECT("00 63 6a 68 51", STD, AL_OK); /* not executed */
	/* Reserved and invalid opcodes fail when executed... */
	EXPECT("50 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("62 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("89 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("ba 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("ff 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("00 63 50 62 89 ba ff 68 51", STD, AL_OK);
	/* ...but OP_VERIF and OP_VERNOTIF even when not. */
	EXPECT("00 63 65 68 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	EXPECT("00 63 66 68 51", STD, AL_E_SCRIPT_BAD_OPCODE);
	/* Disabled opcodes fail everywhere. */
	EXPECT("51 51 7e", STD, AL_E_SCRIPT_DISABLED);
	EXPECT("00 63 7e 68 51", STD, AL_E_SCRIPT_DISABLED);
	EXPECT("00 63 95 68 51", CONS, AL_E_SCRIPT_DISABLED);
	EXPECT("00 63 8d 68 51", CONS, AL_E_SCRIPT_DISABLED);
	EXPECT("00 63 83 68 51", CONS, AL_E_SCRIPT_DISABLED);
	EXPECT("00 63 99 68 51", CONS, AL_E_SCRIPT_DISABLED);
	/* NOPs. */
	EXPECT("61 b0 b3 b9 51", CONS, AL_OK);
	EXPECT("61 51", STD, AL_OK);
	EXPECT("b0 51", STD, AL_E_SCRIPT_UPGRADABLE_NOP);
	EXPECT("b9 51", STD, AL_E_SCRIPT_UPGRADABLE_NOP);
	EXPECT("00 63 b9 68 51", STD, AL_OK);
}

static void test_stack_ops(void)
{
	EXPECT("51 76 87", STD, AL_OK);
	EXPECT("51 52 7c 51 88 52 88 51", STD, AL_OK);
	EXPECT("51 52 78 51 88 52 88 51 88 51", STD, AL_OK);
	EXPECT("51 52 53 7b 51 88 53 88 52 88 51", STD, AL_OK);
	EXPECT("51 52 77 52 88 74 00 87", STD, AL_OK);
	EXPECT("51 52 7d 52 88 51 88 52 88 51", STD, AL_OK);
	EXPECT("51 52 53 6d", STD, AL_OK);
	EXPECT("51 52 6e 52 88 51 88 52 88 51 88 51", STD, AL_OK);
	EXPECT("51 52 53 6f 53 88 52 88 51 88 53 88 52 88 51 88 51", STD, AL_OK);
	EXPECT("51 52 53 54 70 52 88 51 88 54 88 53 88 52 88 51 88 51", STD, AL_OK);
	EXPECT("51 52 53 54 55 56 71 52 88 51 88 56 88 55 88 54 88 53 88 51", STD, AL_OK);
	EXPECT("51 52 53 54 72 52 88 51 88 54 88 53 88 51", STD, AL_OK);
	EXPECT("51 73 87", STD, AL_OK);
	EXPECT("00 73 74 51 88 75 51", STD, AL_OK);
	EXPECT("51 51 74 52 88 6d 51", STD, AL_OK);
	EXPECT("51 52 53 52 79 51 88 53 88 52 88 51 88 51", STD, AL_OK);
	EXPECT("51 52 53 52 7a 51 88 53 88 52 88 51", STD, AL_OK);
	EXPECT("51 52 6b 51 88 6c 52 88 51", STD, AL_OK);
	/* Underflows. */
	EXPECT("75", STD, AL_E_SCRIPT_STACK);
	EXPECT("76", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 7c", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 78", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 7b", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 77", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 7d", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 6d", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 6e", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 6f", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 53 70", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 53 54 55 71", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 53 72", STD, AL_E_SCRIPT_STACK);
	EXPECT("73", STD, AL_E_SCRIPT_STACK);
	EXPECT("82", STD, AL_E_SCRIPT_STACK);
	EXPECT("6b", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 87", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 52 53 79", STD, AL_E_SCRIPT_STACK); /* index 3 of 2 */
	EXPECT("51 4f 79", STD, AL_E_SCRIPT_STACK);    /* negative */
	EXPECT("51 52 7a", STD, AL_E_SCRIPT_STACK);
	EXPECT("79", STD, AL_E_SCRIPT_STACK);
	EXPECT("6c", STD, AL_E_SCRIPT_ALTSTACK);
	EXPECT("51 6b 6c 6c", STD, AL_E_SCRIPT_ALTSTACK);
	EXPECT("51 52 87", STD, AL_E_SCRIPT_EVAL_FALSE);
	EXPECT("51 52 88 51", STD, AL_E_SCRIPT_EQUALVERIFY);
}

static void test_arith(void)
{
	EXPECT("51 8b 52 87", STD, AL_OK);
	EXPECT("52 8c 51 87", STD, AL_OK);
	EXPECT("51 8f 4f 87", STD, AL_OK);
	EXPECT("4f 90 51 87", STD, AL_OK);
	EXPECT("00 91", STD, AL_OK);
	EXPECT("51 91 00 87", STD, AL_OK);
	EXPECT("55 92 51 87", STD, AL_OK);
	EXPECT("52 53 93 55 87", STD, AL_OK);
	EXPECT("55 53 94 52 87", STD, AL_OK);
	EXPECT("53 55 94 01 82 87", STD, AL_OK); /* 3 - 5 = -2 */
	EXPECT("51 00 9a 00 87", STD, AL_OK);
	EXPECT("51 00 9b 51 87", STD, AL_OK);
	EXPECT("55 55 9c", STD, AL_OK);
	EXPECT("55 55 9d 51", STD, AL_OK);
	EXPECT("55 54 9d 51", STD, AL_E_SCRIPT_NUMEQUALVERIFY);
	EXPECT("55 54 9e", STD, AL_OK);
	EXPECT("54 55 9f", STD, AL_OK);
	EXPECT("55 54 a0", STD, AL_OK);
	EXPECT("55 55 a1", STD, AL_OK);
	EXPECT("55 55 a2", STD, AL_OK);
	EXPECT("54 55 a3 54 87", STD, AL_OK);
	EXPECT("54 55 a4 55 87", STD, AL_OK);
	EXPECT("55 54 56 a5", STD, AL_OK);
	EXPECT("56 54 56 a5 91", STD, AL_OK);
	EXPECT("54 54 56 a5", STD, AL_OK);
	/* Results may exceed 4 bytes, but operands may not. */
	EXPECT("04 ffffff7f 04 ffffff7f 93 05 feffffff00 87", STD, AL_OK);
	EXPECT("04 ffffff7f 04 ffffff7f 93 8b", STD, AL_E_SCRIPT_NUM);
	EXPECT("04 ffffffff 8c 05 0000008080 87", STD, AL_OK); /* -(2^31-1) - 1 */
	EXPECT("05 0000000001 8b", STD, AL_E_SCRIPT_NUM);
	/* Non-minimal numbers with MINIMALDATA. */
	EXPECT("02 0100 8b 52 87", STD, AL_E_SCRIPT_NUM);
	EXPECT("02 0100 8b 52 87", CONS, AL_OK);
	EXPECT("01 80 8b", STD, AL_E_SCRIPT_NUM);
	EXPECT("02 ff00 8b 02 0001 87", STD, AL_OK); /* 0x00ff needs its sign byte */
	EXPECT("93", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 a5", STD, AL_E_SCRIPT_STACK);
	EXPECT("8b", STD, AL_E_SCRIPT_STACK);
}

static void test_hashes(void)
{
	EXPECT("00 a8 20 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 87", STD,
	       AL_OK);
	EXPECT("00 a6 14 9c1185a5c5e9fc54612808977ee8f548b2258d31 87", STD, AL_OK);
	EXPECT("00 a7 14 da39a3ee5e6b4b0d3255bfef95601890afd80709 87", STD, AL_OK);
	EXPECT("00 a9 14 b472a266d0bd89c13706a4132ccfb16f7c3b9fcb 87", STD, AL_OK);
	EXPECT("00 aa 20 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456 87", STD,
	       AL_OK);
	EXPECT("a8", STD, AL_E_SCRIPT_STACK);
}

static void repeat(char *out, const char *unit, int n)
{
	out[0] = 0;
	while (n-- > 0)
		strcat(out, unit);
}

/* OP_1, then 520-byte pushes each dropped, then a smaller push dropped and NOPs to
 * make `len` bytes exactly. */
static size_t build_big(uint8_t *s, size_t len)
{
	size_t n = 0;

	s[n++] = AL_OP_1;
	while (len - n >= 524 + 43) {
		s[n++] = AL_OP_PUSHDATA2;
		s[n++] = 0x08;
		s[n++] = 0x02;
		memset(s + n, 0xaa, 520);
		n += 520;
		s[n++] = AL_OP_DROP;
	}
	s[n++] = 41;
	memset(s + n, 0xbb, 41);
	n += 41;
	s[n++] = AL_OP_DROP;
	while (n < len)
		s[n++] = AL_OP_NOP;
	return n;
}

static void test_limits(void)
{
	static char s[32768];
	static uint8_t big[AL_INTERP_MAX_SCRIPT + 2];
	static al_bytes items[AL_INTERP_MAX_STACK + 1];
	static const uint8_t one = 1;
	size_t i;

	/* 201 counted operations pass, 202 do not; pushes do not count. */
	repeat(s, "61", 201);
	strcat(s, "51");
	EXPECT(s, STD, AL_OK);
	repeat(s, "61", 202);
	strcat(s, "51");
	EXPECT(s, STD, AL_E_SCRIPT_OP_COUNT);
	repeat(s, "51 75", 300);
	strcat(s, "51");
	EXPECT(s, STD, AL_E_SCRIPT_OP_COUNT); /* 300 DROPs */
	repeat(s, "51", 500);
	strcat(s, "75");
	EXPECT(s, STD, AL_E_SCRIPT_CLEANSTACK);
	/* Unexecuted operations count too. */
	strcpy(s, "00 63");
	for (i = 0; i < 200; i++)
		strcat(s, "61");
	strcat(s, "68 51");
	EXPECT(s, STD, AL_E_SCRIPT_OP_COUNT);
	/* CHECKMULTISIG counts its keys: 180 + 1 + 20 = 201 passes, one more not. */
	repeat(s, "61", 180);
	strcat(s, "00 00 0000000000000000000000000000000000000000 0114 ae");
	EXPECT(s, STD, AL_OK);
	repeat(s, "61", 181);
	strcat(s, "00 00 0000000000000000000000000000000000000000 0114 ae");
	EXPECT(s, STD, AL_E_SCRIPT_OP_COUNT);

	/* Element size: 520 bytes pass, 521 do not, in a push or in the witness. */
	strcpy(s, "4d 0802");
	repeat(s + strlen(s), "aa", 520);
	strcat(s, "82 02 0802 88 75 51");
	EXPECT(s, STD, AL_OK);
	strcpy(s, "4d 0902");
	repeat(s + strlen(s), "aa", 521);
	strcat(s, "75 51");
	EXPECT(s, STD, AL_E_SCRIPT_PUSH_SIZE);
	EXPECT("00 63 4d 0902", STD, AL_E_SCRIPT_BAD_OPCODE); /* truncated */
	memset(big, 0xaa, sizeof(big));
	items[0].p = big;
	items[0].len = 521;
	CHECK_ERR(exec_items((const uint8_t *)"\x75\x51", 2, items, 1, STD), AL_E_SCRIPT_PUSH_SIZE);
	items[0].len = 520;
	CHECK_ERR(exec_items((const uint8_t *)"\x75\x51", 2, items, 1, STD), AL_OK);

	/* Stack size: 1,000 elements on both stacks together. */
	for (i = 0; i < AL_INTERP_MAX_STACK + 1; i++) {
		items[i].p = &one;
		items[i].len = 1;
	}
	CHECK_ERR(exec_items((const uint8_t *)"\x6d", 1, items, AL_INTERP_MAX_STACK, STD),
	          AL_E_SCRIPT_CLEANSTACK);
	CHECK_ERR(exec_items((const uint8_t *)"\x51", 1, items, AL_INTERP_MAX_STACK, STD),
	          AL_E_SCRIPT_STACK_SIZE);
	CHECK_ERR(exec_items((const uint8_t *)"\x6b\x51", 2, items, AL_INTERP_MAX_STACK, STD),
	          AL_E_SCRIPT_STACK_SIZE);
	CHECK_ERR(
	    exec_items((const uint8_t *)"\x6b\x6b\x6c\x6c", 4, items, AL_INTERP_MAX_STACK, STD),
	    AL_E_SCRIPT_CLEANSTACK);
	CHECK_ERR(exec_items((const uint8_t *)"\x51", 1, items, AL_INTERP_MAX_STACK + 1, STD),
	          AL_E_SCRIPT_STACK_SIZE);
	repeat(s, "51 6b", 999);
	strcat(s, "51");
	EXPECT(s, STD, AL_E_SCRIPT_OP_COUNT); /* TOALTSTACK counts */

	/* Script size: 10,000 bytes pass, 10,001 do not. */
	CHECK(build_big(big, AL_INTERP_MAX_SCRIPT) == AL_INTERP_MAX_SCRIPT);
	CHECK_ERR(exec_items(big, AL_INTERP_MAX_SCRIPT, NULL, 0, STD), AL_OK);
	CHECK(build_big(big, AL_INTERP_MAX_SCRIPT + 1) == AL_INTERP_MAX_SCRIPT + 1);
	CHECK_ERR(exec_items(big, AL_INTERP_MAX_SCRIPT + 1, NULL, 0, STD), AL_E_SCRIPT_SIZE);
}

static void test_locktime(void)
{
	/* BIP 65: heights against a height, not above it, input not final. */
	make_tx(2, 100, 0xfffffffe);
	EXPECT("01 64 b1 75 51", STD, AL_OK);
	EXPECT("01 32 b1 75 51", STD, AL_OK);
	EXPECT("00 b1 75 51", STD, AL_OK);
	EXPECT("01 65 b1 75 51", STD, AL_E_SCRIPT_LOCKTIME);
	EXPECT("04 0065cd1d b1 75 51", STD, AL_E_SCRIPT_LOCKTIME); /* a time */
	EXPECT("4f b1 75 51", STD, AL_E_SCRIPT_NEGATIVE_LOCKTIME);
	EXPECT("b1 51", STD, AL_E_SCRIPT_STACK);
	EXPECT("05 0000000001 b1 75 51", STD, AL_E_SCRIPT_LOCKTIME); /* 5 bytes allowed */
	EXPECT("06 000000000001 b1 75 51", STD, AL_E_SCRIPT_NUM);
	EXPECT("02 6400 b1 75 51", STD, AL_E_SCRIPT_NUM);
	/* Not enforced as a NOP2 (no CLTV flag), unless upgradable NOPs are discouraged. */
	EXPECT("01 65 b1 75 51", 0, AL_OK);
	EXPECT("01 65 b1 75 51", AL_INTERP_DISCOURAGE_UPGRADABLE_NOPS, AL_E_SCRIPT_UPGRADABLE_NOP);
	make_tx(2, 100, 0xffffffff);
	EXPECT("01 64 b1 75 51", STD, AL_E_SCRIPT_LOCKTIME); /* final input */
	make_tx(2, 500000001, 0);
	EXPECT("04 0065cd1d b1 75 51", STD, AL_OK);
	EXPECT("01 64 b1 75 51", STD, AL_E_SCRIPT_LOCKTIME);
	EXPECT("04 0165cd1d b1 75 51", STD, AL_OK);
	EXPECT("04 0265cd1d b1 75 51", STD, AL_E_SCRIPT_LOCKTIME);
	make_tx(2, 0, 0);
}

static void test_sequence(void)
{
	/* BIP 112: block-based relative locktime of 10 on the input. */
	make_tx(2, 0, 10);
	EXPECT("5a b2 75 51", STD, AL_OK);
	EXPECT("59 b2 75 51", STD, AL_OK);
	EXPECT("5b b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	EXPECT("4f b2 75 51", STD, AL_E_SCRIPT_NEGATIVE_LOCKTIME);
	EXPECT("b2 51", STD, AL_E_SCRIPT_STACK);
	/* The operand's disable flag makes it a NOP. */
	EXPECT("05 0000008000 b2 75 51", STD, AL_OK);
	EXPECT("05 ffffffff00 b2 75 51", STD, AL_OK);
	/* Type mismatch: 512-second units against blocks. */
	EXPECT("03 050040 b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	/* Bits outside the type flag and the mask are ignored. */
	EXPECT("03 05000f b2 75 51", STD, AL_OK);
	/* Without the CSV flag: NOP3. */
	EXPECT("5b b2 75 51", CONS & ~AL_INTERP_CHECKSEQUENCEVERIFY, AL_OK);
	EXPECT("5b b2 75 51", AL_INTERP_DISCOURAGE_UPGRADABLE_NOPS, AL_E_SCRIPT_UPGRADABLE_NOP);
	make_tx(2, 0, (1u << 22) | 10);
	EXPECT("03 050040 b2 75 51", STD, AL_OK);
	EXPECT("03 0b0040 b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	EXPECT("55 b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	/* The input's disable flag, or version 1: relative locktime is not in force. */
	make_tx(2, 0, (1u << 31) | 10);
	EXPECT("55 b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	make_tx(1, 0, 10);
	EXPECT("55 b2 75 51", STD, AL_E_SCRIPT_SEQUENCE);
	EXPECT("05 0000008000 b2 75 51", STD, AL_OK);
	make_tx(2, 0, 0);
}

/* ---- signatures ------------------------------------------------------------------ */

typedef struct signer {
	al_privkey k;
	al_pubkey pk;
	uint8_t pub[33];
} signer;

static void signer_init(signer *s, uint8_t b)
{
	memset(s->k.k, b, 32);
	CHECK_OK(al_pubkey_from_privkey(al_t_secp(), &s->pk, &s->k));
	al_pubkey_serialize(al_t_secp(), s->pub, &s->pk);
}

/* DER signature plus sighash byte over input 0 of g_tx with this scriptCode. */
static size_t sign(uint8_t out[74], const signer *s, const uint8_t *code, size_t code_len,
                   al_sat amount, uint8_t type)
{
	uint8_t d[32];
	al_ecdsa_sig sig;
	size_t len = AL_DER_SIG_MAXLEN;

	CHECK_OK(al_sighash_segwit_v0(d, &g_tx, 0, code, code_len, amount, type));
	CHECK_OK(al_ecdsa_sign(al_t_secp(), &sig, d, &s->k));
	CHECK_OK(al_ecdsa_sig_serialize_der(al_t_secp(), out, &len, &sig));
	out[len] = type;
	return len + 1;
}

/* The same signature with S replaced by n - S. */
static size_t high_s(uint8_t out[74], const uint8_t *sig, size_t len)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	                              0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
	                              0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
	uint8_t rs[64];
	al_ecdsa_sig s;
	int i, borrow = 0;
	size_t outlen = AL_DER_SIG_MAXLEN;

	CHECK_OK(al_ecdsa_sig_parse_der(al_t_secp(), &s, sig, len - 1));
	al_ecdsa_sig_serialize_compact(al_t_secp(), rs, &s);
	for (i = 31; i >= 0; i--) {
		int d = n[i] - rs[32 + i] - borrow;
		borrow = d < 0;
		rs[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	CHECK_OK(al_ecdsa_sig_parse_compact(al_t_secp(), &s, rs));
	CHECK_OK(al_ecdsa_sig_serialize_der(al_t_secp(), out, &outlen, &s));
	out[outlen] = sig[len - 1];
	return outlen + 1;
}

static void test_checksig(void)
{
	uint8_t script[80], sig[74], bad[74];
	al_bytes items[3];
	size_t slen, blen;
	signer a;
	al_wb w;

	make_tx(2, 0, 0);
	signer_init(&a, 0x11);
	al_wb_init(&w, script, sizeof(script));
	al_script_push(&w, a.pub, 33);
	al_script_op(&w, AL_OP_CHECKSIG);
	slen = sign(sig, &a, script, w.len, al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){sig, slen};
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_OK);
	/* An empty signature fails softly; a wrong one hard under NULLFAIL. */
	items[0].len = 0;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_EVAL_FALSE);
	memcpy(bad, sig, slen);
	bad[slen - 1] = AL_SIGHASH_NONE; /* signed as ALL */
	items[0] = (al_bytes){bad, slen};
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_NULLFAIL);
	CHECK_ERR(exec_items(script, w.len, items, 1, CONS), AL_E_SCRIPT_EVAL_FALSE);
	/* Undefined sighash type. */
	bad[slen - 1] = 0x04;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_HASHTYPE);
	bad[slen - 1] = 0x84;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_HASHTYPE);
	bad[slen - 1] = 0x00;
	CHECK_ERR(exec_items(script, w.len, items, 1, CONS), AL_E_SCRIPT_EVAL_FALSE);
	/* BIP 66 encoding. */
	memcpy(bad, sig, slen);
	bad[0] = 0x31;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_DER);
	CHECK_ERR(exec_items(script, w.len, items, 1, CONS), AL_E_SCRIPT_SIG_DER);
	memcpy(bad, sig, slen);
	bad[1]++;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_DER);
	memcpy(bad, sig, slen);
	items[0].len = 8;
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_DER);
	/* BIP 146 low S: policy, not consensus. */
	blen = high_s(bad, sig, slen);
	items[0] = (al_bytes){bad, blen};
	CHECK_ERR(exec_items(script, w.len, items, 1, STD), AL_E_SCRIPT_SIG_HIGH_S);
	CHECK_ERR(exec_items(script, w.len, items, 1, CONS), AL_OK);
	/* CHECKSIGVERIFY. */
	script[w.len - 1] = AL_OP_CHECKSIGVERIFY;
	script[w.len] = AL_OP_1;
	slen = sign(sig, &a, script, w.len + 1, al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){sig, slen};
	CHECK_ERR(exec_items(script, w.len + 1, items, 1, STD), AL_OK);
	items[0].len = 0;
	CHECK_ERR(exec_items(script, w.len + 1, items, 1, STD), AL_E_SCRIPT_CHECKSIGVERIFY);
	EXPECT("51 ac", STD, AL_E_SCRIPT_STACK);
	/* Public key encodings. */
	EXPECT("00 0a 02030405060708090a0b ac 91", STD, AL_E_SCRIPT_PUBKEYTYPE);
	EXPECT("00 0a 02030405060708090a0b ac 91", CONS, AL_OK);
	EXPECT("00 41 04 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	       "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8 ac 91",
	       STD, AL_E_SCRIPT_WITNESS_PUBKEYTYPE);
	EXPECT("00 41 04 79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	       "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8 ac 91",
	       STD & ~AL_INTERP_WITNESS_PUBKEYTYPE, AL_OK);
}

static void test_codeseparator(void)
{
	uint8_t script[80], sig[74];
	al_bytes items[1];
	size_t slen, len;
	signer a;
	al_wb w;

	/* BIP 143: the scriptCode starts after the last executed OP_CODESEPARATOR. */
	make_tx(2, 0, 0);
	signer_init(&a, 0x22);
	al_wb_init(&w, script, sizeof(script));
	al_script_op(&w, AL_OP_CODESEPARATOR);
	al_script_push(&w, a.pub, 33);
	al_script_op(&w, AL_OP_CHECKSIG);
	len = w.len;
	slen = sign(sig, &a, script + 1, len - 1, al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){sig, slen};
	CHECK_ERR(exec_items(script, len, items, 1, STD), AL_OK);
	slen = sign(sig, &a, script, len, al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){sig, slen};
	CHECK_ERR(exec_items(script, len, items, 1, STD), AL_E_SCRIPT_NULLFAIL);
}

static void test_multisig(void)
{
	uint8_t script[120], s1[74], s2[74];
	al_bytes items[3];
	size_t l1, l2, len;
	signer a, b;
	al_wb w;

	make_tx(2, 0, 0);
	signer_init(&a, 0x33);
	signer_init(&b, 0x44);
	al_wb_init(&w, script, sizeof(script));
	al_script_op(&w, AL_OP_2);
	al_script_push(&w, a.pub, 33);
	al_script_push(&w, b.pub, 33);
	al_script_op(&w, AL_OP_2);
	al_script_op(&w, AL_OP_CHECKMULTISIG);
	len = w.len;
	l1 = sign(s1, &a, script, len, al_sat_of(5000), AL_SIGHASH_ALL);
	l2 = sign(s2, &b, script, len, al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){NULL, 0};
	items[1] = (al_bytes){s1, l1};
	items[2] = (al_bytes){s2, l2};
	CHECK_ERR(exec_items(script, len, items, 3, STD), AL_OK);
	/* Signatures out of key order fail; NULLFAIL makes that an error. */
	items[1] = (al_bytes){s2, l2};
	items[2] = (al_bytes){s1, l1};
	CHECK_ERR(exec_items(script, len, items, 3, STD), AL_E_SCRIPT_NULLFAIL);
	CHECK_ERR(exec_items(script, len, items, 3, CONS), AL_E_SCRIPT_EVAL_FALSE);
	/* BIP 147 NULLDUMMY. */
	items[0] = (al_bytes){(const uint8_t *)"\x01", 1};
	items[1] = (al_bytes){s1, l1};
	items[2] = (al_bytes){s2, l2};
	CHECK_ERR(exec_items(script, len, items, 3, STD), AL_E_SCRIPT_SIG_NULLDUMMY);
	CHECK_ERR(exec_items(script, len, items, 3, CONS), AL_E_SCRIPT_SIG_NULLDUMMY);
	CHECK_ERR(exec_items(script, len, items, 3, 0), AL_OK);
	/* Missing dummy. */
	CHECK_ERR(exec_items(script, len, items + 1, 2, STD), AL_E_SCRIPT_STACK);
	/* Counts. */
	EXPECT("00 00 00 ae", STD, AL_OK);
	EXPECT("51 00 00 ae", STD, AL_E_SCRIPT_SIG_NULLDUMMY);
	EXPECT("00 52 21 02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 51 ae",
	       STD, AL_E_SCRIPT_SIG_COUNT);
	EXPECT("00 4f 00 ae", STD, AL_E_SCRIPT_SIG_COUNT);
	EXPECT("00 00 01 15 ae", STD, AL_E_SCRIPT_PUBKEY_COUNT);
	EXPECT("4f ae", STD, AL_E_SCRIPT_PUBKEY_COUNT);
	EXPECT("ae", STD, AL_E_SCRIPT_STACK);
	EXPECT("51 ae", STD, AL_E_SCRIPT_STACK);
	EXPECT("00 51 ae", STD, AL_E_SCRIPT_STACK);
	/* CHECKMULTISIGVERIFY with an empty signature. */
	EXPECT("00 00 51 21 02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 51 "
	       "af 51",
	       STD, AL_E_SCRIPT_CHECKMULTISIGVERIFY);
	EXPECT("00 00 00 af 51", STD, AL_OK);
}

/* ---- witness programs ------------------------------------------------------------ */

static al_err verify_in(const uint8_t *spk, size_t len, uint32_t flags)
{
	al_interp_fail why;
	al_arena a;
	al_err err;

	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	err = al_interp_verify_input(al_t_secp(), &g_tx, 0, spk, len, al_sat_of(5000), flags, &a,
	                             &why);
	CHECK(why.err == err && al_arena_used(&a) == 0);
	return err;
}

static void set_witness(const al_bytes *items, size_t n)
{
	static uint8_t mem[4096];
	al_arena a;

	al_arena_init(&a, mem, sizeof(mem));
	CHECK_OK(al_tx_set_witness(&g_tx, &a, 0, items, n));
}

static void test_p2wpkh(void)
{
	uint8_t spk[22], code[25], sig[74], h[20], p2sh[23], redeem_push[23];
	al_bytes items[3];
	size_t slen;
	signer a;
	al_wb w;

	make_tx(2, 0, 0);
	signer_init(&a, 0x55);
	al_hash160(h, a.pub, 33);
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wpkh(&w, h);
	al_wb_init(&w, code, sizeof(code));
	al_script_p2wpkh_scriptcode(&w, h);
	slen = sign(sig, &a, code, sizeof(code), al_sat_of(5000), AL_SIGHASH_ALL);
	items[0] = (al_bytes){sig, slen};
	items[1] = (al_bytes){a.pub, 33};
	set_witness(items, 2);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_OK);
	/* Exactly two witness items. */
	items[2] = items[1];
	set_witness(items, 3);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_WITNESS_MISMATCH);
	set_witness(items, 1);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_WITNESS_MISMATCH);
	/* Another key than the program's hash. */
	items[1] = (al_bytes){a.pub, 32};
	set_witness(items, 2);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_EQUALVERIFY);
	/* A non-empty scriptSig malleates a native witness spend. */
	items[1] = (al_bytes){a.pub, 33};
	set_witness(items, 2);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x51", 1};
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_WITNESS_MALLEATED);

	/* P2SH-P2WPKH: the scriptSig is exactly the push of the redeemScript. */
	al_hash160(h, spk, sizeof(spk));
	al_wb_init(&w, p2sh, sizeof(p2sh));
	al_script_p2sh(&w, h);
	al_wb_init(&w, redeem_push, sizeof(redeem_push));
	al_script_push(&w, spk, sizeof(spk));
	g_tx.in[0].script_sig = (al_bytes){redeem_push, sizeof(redeem_push)};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_OK);
	/* Without BIP 16 the witness belongs to no witness program. */
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD & ~AL_INTERP_P2SH),
	          AL_E_SCRIPT_WITNESS_UNEXPECTED);
	g_tx.in[0].script_sig = (al_bytes){NULL, 0};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_STACK);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x51", 1};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_EVAL_FALSE);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x51\x76", 2};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_SIG_PUSHONLY);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x50", 1};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_BAD_OPCODE);
}

static void test_p2wsh_and_programs(void)
{
	static const uint8_t ws[] = {0x51};
	static uint8_t big[AL_INTERP_MAX_SCRIPT + 1];
	uint8_t spk[34], p2sh[23], h[20], push[35], push2[36], prog[42];
	al_bytes items[2];
	al_wb w;

	make_tx(2, 0, 0);
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, ws, sizeof(ws));
	items[0] = (al_bytes){ws, 1};
	set_witness(items, 1);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_OK);
	set_witness(items, 0);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_WITNESS_EMPTY);
	items[0] = (al_bytes){(const uint8_t *)"\x52", 1};
	set_witness(items, 1);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_WITNESS_MISMATCH);
	/* Witness script over 10,000 bytes. */
	memset(big, 0x61, sizeof(big));
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, big, sizeof(big));
	items[0] = (al_bytes){big, sizeof(big)};
	set_witness(items, 1);
	CHECK_ERR(verify_in(spk, sizeof(spk), STD), AL_E_SCRIPT_SIZE);

	/* P2SH-P2WSH, and a scriptSig with an extra push. */
	al_wb_init(&w, spk, sizeof(spk));
	al_script_p2wsh(&w, ws, sizeof(ws));
	items[0] = (al_bytes){ws, 1};
	set_witness(items, 1);
	al_hash160(h, spk, sizeof(spk));
	al_wb_init(&w, p2sh, sizeof(p2sh));
	al_script_p2sh(&w, h);
	al_wb_init(&w, push, sizeof(push));
	al_script_push(&w, spk, sizeof(spk));
	g_tx.in[0].script_sig = (al_bytes){push, sizeof(push)};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_OK);
	push2[0] = AL_OP_0;
	memcpy(push2 + 1, push, sizeof(push));
	g_tx.in[0].script_sig = (al_bytes){push2, sizeof(push2)};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_WITNESS_MALLEATED_P2SH);
	/* A legacy redeemScript. */
	al_hash160(h, ws, 1);
	al_wb_init(&w, p2sh, sizeof(p2sh));
	al_script_p2sh(&w, h);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x01\x51", 2};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), CONS), AL_E_SCRIPT_WITNESS_UNEXPECTED);
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), CONS & ~AL_INTERP_WITNESS), AL_OK);
	set_witness(NULL, 0);
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_OK);
	g_tx.in[0].script_sig = (al_bytes){(const uint8_t *)"\x51\x01\x51", 3};
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), CONS), AL_OK);
	CHECK_ERR(verify_in(p2sh, sizeof(p2sh), STD), AL_E_SCRIPT_CLEANSTACK);
	g_tx.in[0].script_sig = (al_bytes){NULL, 0};
	set_witness(items, 2);

	/* Program lengths and versions. */
	memset(prog, 0x77, sizeof(prog));
	prog[0] = AL_OP_0;
	prog[1] = 21;
	CHECK_ERR(verify_in(prog, 23, STD), AL_E_SCRIPT_WITNESS_LENGTH);
	prog[0] = AL_OP_1; /* taproot */
	prog[1] = 32;
	CHECK_ERR(verify_in(prog, 34, STD), AL_E_SCRIPT_UNSUPPORTED);
	prog[0] = AL_OP_2;
	CHECK_ERR(verify_in(prog, 34, STD), AL_E_SCRIPT_WITNESS_UPGRADABLE);
	CHECK_ERR(verify_in(prog, 34, CONS), AL_OK);
	prog[0] = AL_OP_1;
	prog[1] = 20;
	CHECK_ERR(verify_in(prog, 22, STD), AL_E_SCRIPT_WITNESS_UPGRADABLE);
	/* Legacy outputs. */
	CHECK_ERR(verify_in((const uint8_t *)"\x51", 1, STD), AL_E_SCRIPT_WITNESS_UNEXPECTED);
	CHECK_ERR(verify_in(NULL, 0, STD), AL_E_SCRIPT_EVAL_FALSE);
	set_witness(NULL, 0);
	CHECK_ERR(verify_in((const uint8_t *)"\x51", 1, STD), AL_OK);
	CHECK_ERR(verify_in(big, sizeof(big), STD), AL_E_SCRIPT_SIZE);
}

static void test_api(void)
{
	static uint8_t small[1024];
	al_interp_fail why;
	al_arena a;

	make_tx(2, 0, 0);
	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	CHECK(al_interp_scratch_size() <= sizeof(g_scratch));
	CHECK_ERR(al_interp_verify_input(al_t_secp(), &g_tx, 1, (const uint8_t *)"\x51", 1,
	                                 al_sat_of(1), STD, &a, &why),
	          AL_E_RANGE);
	CHECK(why.err == AL_E_RANGE && why.opcode == -1);
	CHECK_ERR(al_interp_verify_input(NULL, &g_tx, 0, NULL, 0, al_sat_of(1), STD, &a, NULL),
	          AL_E_ARG);
	CHECK_ERR(al_interp_exec_witness_script(al_t_secp(), &g_tx, 0, NULL, 1, NULL, 0,
	                                        al_sat_of(1), STD, &a, NULL),
	          AL_E_ARG);
	al_arena_init(&a, small, sizeof(small));
	CHECK_ERR(al_interp_exec_witness_script(al_t_secp(), &g_tx, 0, (const uint8_t *)"\x51", 1,
	                                        NULL, 0, al_sat_of(1), STD, &a, &why),
	          AL_E_NOMEM);
	CHECK(al_arena_used(&a) == 0);
	/* Where it failed: OP_VERIFY at offset 1. */
	al_arena_init(&a, g_scratch, sizeof(g_scratch));
	CHECK_ERR(al_interp_exec_witness_script(al_t_secp(), &g_tx, 0, (const uint8_t *)"\x00\x69",
	                                        2, NULL, 0, al_sat_of(1), STD, &a, &why),
	          AL_E_SCRIPT_VERIFY);
	CHECK(why.opcode == AL_OP_VERIFY && why.offset == 1);
	/* Every script code has Core's words. */
	CHECK(strcmp(al_err_str(AL_E_SCRIPT_NULLFAIL),
	             "Signature must be zero for failed CHECK(MULTI)SIG operation") == 0);
}

int main(void)
{
	make_tx(2, 0, 0);
	test_push_and_constants();
	test_flow();
	test_stack_ops();
	test_arith();
	test_hashes();
	test_limits();
	test_locktime();
	test_sequence();
	test_checksig();
	test_codeseparator();
	test_multisig();
	test_p2wpkh();
	test_p2wsh_and_programs();
	test_api();
	return al_t_finish();
}
