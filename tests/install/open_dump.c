/* A program of someone else's, built against an installed libntmem with
 * `pkg-config --cflags --libs ntmem`: opens a dump, prints what the reader
 * and the kernel walks find. tests/e2e/test_install.py compares it with the
 * generator's manifest. */
#include <stdio.h>

#include <ntmem/ntmem.h>

int main(int argc, char **argv)
{
	nm_source *src;
	struct nm_kernel k;
	struct nm_module_list l;
	nm_error err;

	if (argc != 2) {
		fprintf(stderr, "usage: open_dump DUMP\n");
		return 1;
	}
	if (nm_source_open(argv[1], false, &src, &err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[1], err.what, err.why);
		return 2;
	}
	if (nm_kernel_open(src, NULL, &k, &err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[1], err.what, err.why);
		nm_source_close(src);
		return 2;
	}
	printf("pages %llu\n", (unsigned long long)nm_source_facts(src)->pages_in_dump);
	if (nm_modules_read(&k, &l, &err) == 0) {
		printf("modules %u\n", l.count);
		for (unsigned i = 0; i < l.count; i++)
			printf("module %s 0x%llx\n", l.items[i].name ? l.items[i].name : "-",
			       (unsigned long long)l.items[i].base);
		nm_modules_free(&l);
	}
	nm_kernel_close(&k);
	nm_source_close(src);
	return 0;
}
