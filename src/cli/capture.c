#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

/* Points FD at a new temporary file; returns the saved original, or -1. */
static int redirect(int fd, FILE **tmp)
{
	int saved;

	*tmp = tmpfile();
	if (!*tmp)
		return -1;
	saved = dup(fd);
	if (saved < 0 || dup2(fileno(*tmp), fd) < 0) {
		if (saved >= 0)
			close(saved);
		fclose(*tmp);
		*tmp = NULL;
		return -1;
	}
	return saved;
}

/* Puts FD back and reads what went to TMP (NUL-terminated). */
static void restore(int fd, int saved, FILE *tmp, char **text, size_t *len)
{
	long n;

	dup2(saved, fd);
	close(saved);
	*text = NULL;
	*len = 0;
	n = ftell(tmp);
	if (n > 0 && fseek(tmp, 0, SEEK_SET) == 0 && (*text = malloc((size_t)n + 1)) != NULL) {
		*len = fread(*text, 1, (size_t)n, tmp);
		(*text)[*len] = 0;
	}
	fclose(tmp);
}

void cli_run_captured(const struct cli *sub, int (*run)(const struct cli *), bool catch_stderr,
		      struct captured *out)
{
	FILE *out_tmp, *err_tmp = NULL;
	int saved_out, saved_err = -1;

	memset(out, 0, sizeof(*out));
	out->status = CLI_EXIT_PARTIAL;
	fflush(stdout);
	fflush(stderr);
	saved_out = redirect(STDOUT_FILENO, &out_tmp);
	if (saved_out < 0)
		return;
	if (catch_stderr && (saved_err = redirect(STDERR_FILENO, &err_tmp)) < 0) {
		restore(STDOUT_FILENO, saved_out, out_tmp, &out->out, &out->out_len);
		free(out->out);
		out->out = NULL;
		return;
	}
	out->status = run(sub);
	fflush(stdout);
	fflush(stderr);
	restore(STDOUT_FILENO, saved_out, out_tmp, &out->out, &out->out_len);
	if (err_tmp)
		restore(STDERR_FILENO, saved_err, err_tmp, &out->err, &out->err_len);
}

void captured_free(struct captured *c)
{
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}
