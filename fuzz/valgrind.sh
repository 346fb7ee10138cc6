#!/bin/sh
# Runs "$@" under valgrind memcheck for make check-valgrind. Valgrind keeps
# its own temporary files in $TMPDIR, even for the program it traces; a test
# that points TMPDIR at a directory that cannot be written (to check ntmem's
# own error) gets the program alone, as valgrind cannot start there.
if [ -n "${TMPDIR-}" ] && ! [ -d "$TMPDIR" -a -w "$TMPDIR" ]; then
	exec "$@"
fi
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions="$(dirname "$0")/valgrind.supp" "$@"
