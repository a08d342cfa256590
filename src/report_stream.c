/* report_stream.c: the writer's streamed JSON array: a top-level array written one element at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report-internal.h"
#include "util.h"

/* Written out once the buffer holds this much: a write per element would be a syscall per remote. */
#define STREAM_CHUNK 65536

static void put(struct report *r, const char *s, size_t n)
{
	if (n && fwrite(s, 1, n, r->buf) != n)
		r->oom = true;
	if (ftell(r->buf) >= STREAM_CHUNK)
		(void)report_drain(r);    /* an error sticks: report_finish() answers with it */
}

/* Where "key": [] stands in the dump of the whole document. */
static const char *marker(const struct report *r, const char *doc, size_t *ret_len)
{
	char *m = xasprintf("\n  \"%s\": []", r->stream_key);
	const char *at = strstr(doc, m);

	*ret_len = strlen(m);
	free(m);
	return at;
}

void report_stream_begin(struct report *r, const char *key)
{
	const char *at;
	char *doc;
	size_t len;

	report_array_begin(r, key);
	/* elsewhere an ordinary array: in one document a line there is no place to splice */
	if (r->cfg.format != FMT_JSON || r->lines || r->depth != 1 || r->stream_key || r->oom)
		return;
	r->stream_key = xstrdup(key);
	r->stream = r->stack[1];
	r->stream_n = 0;
	/* the document up to the array's '[', as the whole dump will print it */
	doc = report_json_dump(r);
	at = doc ? marker(r, doc, &len) : NULL;
	if (!at) {
		r->oom = true;
		free(doc);
		return;
	}
	put(r, doc, (size_t)(at - doc) + len - 1);
	free(doc);
}

void report_stream_end(struct report *r)
{
	report_array_end(r);
}

/* An element ended (or the array): write what the array holds, indented as in the whole dump. */
void report_stream_pop(struct report *r)
{
	size_t i;
	json_t *v;

	if (r->depth > 1)
		return;
	json_array_foreach(r->stream, i, v) {
		char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

		if (!s) {
			r->oom = true;
			break;
		}
		if (r->stream_n++)
			put(r, ",", 1);
		put(r, "\n    ", 5);
		for (const char *p = s; *p;) {
			size_t n = strcspn(p, "\n");

			put(r, p, n);
			if (!p[n])
				break;
			put(r, "\n    ", 5);
			p += n + 1;
		}
		free(s);
	}
	if (json_array_clear(r->stream) < 0)
		r->oom = true;
	if (r->depth == 0)
		r->stream = NULL;
}

/* The end of the array and the rest of the document, from its whole dump. */
int report_stream_rest(struct report *r, const char *doc)
{
	size_t len;
	const char *at = marker(r, doc, &len);

	if (!at)
		return -EIO;
	put(r, r->stream_n ? "\n  ]" : "]", r->stream_n ? 4 : 1);
	put(r, at + len, strlen(at + len));
	if (r->oom)
		return -ENOMEM;
	return report_drain(r);
}
