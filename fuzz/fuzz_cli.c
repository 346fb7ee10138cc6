/* The whole command-line pipeline over a fuzzer-made dump file: the input is
 * written to an in-memory file and the tool's own main() runs each read-only
 * command on it, as a user would (carve, which writes files, has its own
 * target). Output goes to /dev/null; sanitizer reports still reach fd 2. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int ntmem_cli_main(int argc, char **argv);

static FILE *quiet_stream(void)
{
	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	return devnull;
}

static void run(const char *path, char *cmd, char *a1, char *a2, char *a3)
{
	char *argv[] = { "ntmem", "--json", cmd, (char *)path, a1, a2, a3, NULL };
	int argc = 4;

	while (argc < 7 && argv[argc])
		argc++;
	(void)ntmem_cli_main(argc, argv);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char path[64];
	int fd = memfd_create("fuzz-dump", 0);

	if (fd < 0 || !quiet_stream())
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	stdout = quiet_stream();
	stderr = quiet_stream();
	run(path, "info", NULL, NULL, NULL);
	run(path, "pte", "0x80000000", "0x80010000", "0xc0300000");
	run(path, "read", "0x80000ff0", "0x20", NULL);
	run(path, "modules", NULL, NULL, NULL);
	run(path, "pools", NULL, NULL, NULL);
	run(path, "pfn", "0", "0x3f", "0xffffffff");
	run(path, "explain", NULL, NULL, NULL);
	run(path, "report", NULL, NULL, NULL);
	close(fd);
	return 0;
}
