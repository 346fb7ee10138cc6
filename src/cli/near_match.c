/* "Did you mean ...?": the nearest known word to a mistyped one, by edit
 * distance (Levenshtein), letters compared without case. A word that equals
 * a candidate minus its extension ("npf" for "npf.sys") is always near. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define NEAR_MAX_LEN 64		/* longer words are compared as this many letters */

static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[NEAR_MAX_LEN + 1];
	size_t la = strnlen(a, NEAR_MAX_LEN), lb = strnlen(b, NEAR_MAX_LEN);

	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "npf" against "npf.sys": the candidate's name without its extension. */
static bool is_stem_of(const char *typed, const char *candidate)
{
	const char *dot = strrchr(candidate, '.');

	return dot && dot != candidate && strlen(typed) == (size_t)(dot - candidate) &&
	       strncasecmp(typed, candidate, (size_t)(dot - candidate)) == 0;
}

const char *cli_nearest(const char *typed, const char *const *candidates, unsigned n)
{
	const char *best = NULL;
	unsigned best_d = ~0u, limit;
	size_t len = strlen(typed);

	if (len == 0)
		return NULL;
	limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;	/* a typo, not another word */
	for (unsigned i = 0; i < n; i++) {
		unsigned d;

		if (!candidates[i])
			continue;
		if (is_stem_of(typed, candidates[i]))
			return candidates[i];
		d = edit_distance(typed, candidates[i]);
		if (d <= limit && d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
