/* The seed file's in-memory part (host/seed.h al_seed_parse) and the NUL byte that once
 * ended the mnemonic early, so that al_seed_read accepted a file with anything after a
 * valid sentence and a NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/seed.h"
#include "test.h"

#define TWELVE                                                                                     \
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "         \
	"abandon about"

static bool wiped(const char *p)
{
	for (size_t i = 0; i < AL_BIP39_MNEMONIC_BUFLEN; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void test_parse(void)
{
	static const char messy[] = "\r\n\t" TWELVE "\r\n\r\n";
	char out[AL_BIP39_MNEMONIC_BUFLEN], big[AL_SEED_FILE_MAX + 1];

	CHECK_OK(al_seed_parse(out, messy, sizeof(messy) - 1));
	CHECK(strcmp(out, TWELVE) == 0);
	CHECK_OK(al_seed_parse(out,
	                       "abandon  abandon abandon abandon abandon abandon abandon "
	                       "abandon abandon abandon abandon\vabout",
	                       strlen(TWELVE) + 1));
	CHECK(strcmp(out, TWELVE) == 0);
	/* Truncated: a word cut off, then the last word missing. */
	CHECK_ERR(al_seed_parse(out, TWELVE, strlen(TWELVE) - 2), AL_E_BIP39_WORD);
	CHECK(wiped(out));
	CHECK_ERR(al_seed_parse(out, TWELVE, strlen(TWELVE) - 6), AL_E_BIP39_WORDS);
	CHECK_ERR(al_seed_parse(out, "", 0), AL_E_BIP39_WORDS);
	/* Oversized: past the file limit, even if only blanks. */
	memset(big, ' ', sizeof(big));
	CHECK_OK(al_seed_parse(out, messy, sizeof(messy) - 1));
	CHECK_ERR(al_seed_parse(out, big, sizeof(big)), AL_E_TOO_LARGE);
	CHECK(wiped(out));
	/* Too many words for the buffer. */
	for (size_t i = 0; i + 8 <= sizeof(big); i += 8)
		memcpy(big + i, "abandon ", 8);
	CHECK_ERR(al_seed_parse(out, big, AL_SEED_FILE_MAX), AL_E_TOO_LARGE);
	CHECK_ERR(al_seed_parse(out, "ABANDON", 7), AL_E_BIP39_WORDS);
}

static void test_nul(void)
{
	static const char after[] = TWELVE "\0garbage\n";
	static const char inside[] = "abandon abandon abandon abandon abandon abandon abandon "
	                             "abandon abandon abandon abandon about\0";
	char out[AL_BIP39_MNEMONIC_BUFLEN], dir[] = "/tmp/alight-seed-XXXXXX", path[64];
	FILE *f;

	CHECK_ERR(al_seed_parse(out, after, sizeof(after) - 1), AL_E_BIP39_WORD);
	CHECK(wiped(out));
	/* A NUL glued to the last word, and a NUL as a thirteenth word. */
	CHECK_ERR(al_seed_parse(out, inside, sizeof(inside) - 1), AL_E_BIP39_WORD);
	CHECK_ERR(al_seed_parse(out, TWELVE " \0", strlen(TWELVE) + 2), AL_E_BIP39_WORDS);

	/* The same through the file reader. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/seed", dir);
	f = fopen(path, "wb");
	CHECK(f != NULL && fwrite(after, 1, sizeof(after) - 1, f) == sizeof(after) - 1);
	if (f)
		fclose(f);
	CHECK_ERR(al_seed_read(out, path), AL_E_BIP39_WORD);
	CHECK(out[0] == '\0');
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_nul();
	return al_t_finish();
}
