/* The output half of the contract: every byte a command prints reaches
 * stdout or the status says it did not (stdout on a full device, closed),
 * and the process never dies of SIGXFSZ. SIGPIPE keeps its default: a
 * reader that stops early (`| head`) ends ntmem as it ends any filter. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <ntmem/mapped_file.h>

#include "cli.h"

void cli_prepare_streams(void)
{
	/* A descriptor closed by the caller (">&-") would be the next one
	 * open() returns: a dump or an output file would become stdout. It is
	 * filled with /dev/null opened read-only, so that writes to it fail
	 * and the failure is reported, not lost. */
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : (fd == 1 ? O_RDONLY : O_WRONLY));

		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	signal(SIGXFSZ, SIG_IGN);
}

int cli_fail_output(const char *path, const char *what, const char *why)
{
	fflush(stdout);
	fputs("ntmem: ", stderr);
	fflush(stderr);
	nm_write_printable(STDERR_FILENO, path ? path : "-");
	fprintf(stderr, ": %s: %s\n", what, why);
	return CLI_EXIT_OUTPUT;
}

int cli_finish_output(int rc, bool close)
{
	bool failed_before = ferror(stdout) != 0;
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		e = errno;
	if (close && fclose(stdout) != 0 && !e)
		e = errno ? errno : EIO;
	if (!failed_before && !e)
		return rc;
	{
		char why[160];

		snprintf(why, sizeof(why), "cannot write: %s", e ? strerror(e) : "a write failed earlier");
		cli_fail_output("stdout", "output", why);
	}
	return rc == CLI_EXIT_OK || rc == CLI_EXIT_USAGE || rc == CLI_EXIT_PARTIAL ? CLI_EXIT_OUTPUT : rc;
}
