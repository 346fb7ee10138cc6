/* UTF-16LE to UTF-8 for names read from the dump. */
#include <stdlib.h>

#include <ntmem/bytes.h>
#include <ntmem/modules.h>

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

char *nm_utf16le_to_utf8(const uint8_t *s, size_t len)
{
	size_t units = len / 2, n = 0;
	/* Every unit becomes at most 3 bytes; a pair (2 units) at most 4. */
	char *out = malloc(units * 3 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < units; i++) {
		uint32_t u = nm_le16(s + 2 * i);

		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
			uint32_t lo = nm_le16(s + 2 * i + 2);

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				n += put_utf8(out + n, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
				i++;
				continue;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF)
			u = 0xFFFD;
		n += put_utf8(out + n, u);
	}
	out[n] = '\0';
	return out;
}
