#include <stdio.h>
int main(void)
{
	printf("alight demo: under construction\n");
	return 0;
}
