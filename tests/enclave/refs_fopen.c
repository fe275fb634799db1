/* A shared object the enclave symbol check must refuse: it opens a file. */
#include <stdio.h>

int enclave_symbols_fopen(const char *path);

int enclave_symbols_fopen(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	return fclose(f);
}
