#include "cmdline.h"

#include <stddef.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Next word: returns its start and sets *len, or NULL at the end. */
static const char *next_word(const char **cursor, size_t *len)
{
	const char *p = *cursor;
	while (*p && is_space(*p))
		p++;
	if (!*p)
		return NULL;
	const char *start = p;
	while (*p && !is_space(*p))
		p++;
	*len = (size_t)(p - start);
	*cursor = p;
	return start;
}

static bool word_equals(const char *w, size_t len, const char *s, size_t slen)
{
	if (len != slen)
		return false;
	for (size_t i = 0; i < len; i++)
		if (w[i] != s[i])
			return false;
	return true;
}

static size_t string_length(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

bool cmdline_has_flag(const char *cmdline, const char *word)
{
	if (!cmdline)
		return false;
	size_t wlen = string_length(word), len;
	const char *w;
	while ((w = next_word(&cmdline, &len)))
		if (word_equals(w, len, word, wlen))
			return true;
	return false;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false; /* overflow */
		v = v * base + d;
	}
	*out = v;
	return true;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
	if (!cmdline)
		return false;
	size_t klen = string_length(key), len;
	const char *w;
	while ((w = next_word(&cmdline, &len))) {
		if (len > klen && w[klen] == '=' && word_equals(w, klen, key, klen))
			return parse_u64(w + klen + 1, len - klen - 1, out);
	}
	return false;
}
