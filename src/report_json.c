/* report_json.c: the writer's JSON document: containers, the error object, the one dump. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report-internal.h"
#include "util.h"

json_t *report_json_text(const char *s)
{
	char *e;
	json_t *j;

	if (!s)
		return json_null();
	e = report_escape_json(s);
	j = json_string(e);
	free(e);
	return j;
}

/* Put v into the open container; every jansson call is checked, a failure is kept for report_finish. */
void report_json_add(struct report *r, const char *key, json_t *v)
{
	json_t *top;

	if (r->cfg.format != FMT_JSON) {
		json_decref(v);
		return;
	}
	top = r->stack[r->depth];
	if (r->detached[r->depth]) {
		json_decref(v);
		return;
	}
	r->used = true;
	if (!v || !top) {
		json_decref(v);
		r->oom = true;
		return;
	}
	if (json_is_array(top)) {
		if (json_array_append_new(top, v) < 0)
			r->oom = true;
	} else if (!key) {
		json_decref(v);	/* a field of the text view only */
	} else if (json_object_set_new(top, key, v) < 0) {
		r->oom = true;
	}
}

void report_json_push(struct report *r, const char *key, json_t *c, bool detached)
{
	if (r->cfg.format != FMT_JSON) {
		json_decref(c);
		return;
	}
	if (r->depth + 1 >= REPORT_DEPTH)
		abort();
	detached |= r->detached[r->depth];
	if (!detached) {
		json_incref(c);
		report_json_add(r, key, c);
	}
	r->stack[++r->depth] = c;
	r->detached[r->depth] = detached;
	if (!detached)
		json_decref(c);
}

void report_json_pop(struct report *r)
{
	if (r->cfg.format != FMT_JSON || r->depth == 0)
		return;
	if (r->detached[r->depth])
		json_decref(r->stack[r->depth]);
	r->detached[r->depth--] = false;
	if (r->stream)
		report_stream_pop(r);
}

void report_object_begin(struct report *r, const char *key)
{
	report_json_push(r, key, r->cfg.format == FMT_JSON ? json_object() : NULL, false);
}

void report_object_end(struct report *r)
{
	report_json_pop(r);
}

void report_array_begin(struct report *r, const char *key)
{
	report_json_push(r, key, r->cfg.format == FMT_JSON ? json_array() : NULL, false);
}

void report_array_end(struct report *r)
{
	report_json_pop(r);
}


/*
 * "file:line: key: text", "file:line: text", "key: text" or "text": the
 * shape of tcptune's error messages, taken apart for the JSON error object.
 */
static void error_object(struct report *r, const char *msg)
{
	const char *p = msg, *colon;
	char *file = NULL, *key = NULL;
	long line = 0;

	colon = strstr(p, ": ");
	if (colon && colon > p) {
		const char *c2 = colon;
		while (c2 > p && c2[-1] >= '0' && c2[-1] <= '9')
			c2--;
		if (c2 < colon && c2 > p && c2[-1] == ':' && (p[0] == '/' || p[0] == '.')) {
			file = xstrndup(p, (size_t)(c2 - 1 - p));
			line = strtol(c2, NULL, 10);
			p = colon + 2;
			colon = strstr(p, ": ");
		}
	}
	if (colon && colon > p && strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == (size_t)(colon - p) &&
	    memchr(p, '.', (size_t)(colon - p)))
		key = xstrndup(p, (size_t)(colon - p));
	report_object_begin(r, "error");
	report_str(r, "message", NULL, msg);
	report_str(r, "file", NULL, file);
	if (line)
		report_int(r, "line", NULL, line);
	else
		report_null(r, "line", NULL);
	report_str(r, "key", NULL, key);
	report_object_end(r);
	free(file);
	free(key);
}

void report_exit(struct report *r, int code, const char *message)
{
	if (r->cfg.format != FMT_JSON)
		return;
	while (r->depth > 0)
		report_json_pop(r);
	if (message)
		error_object(r, message);
	report_int(r, "exit", NULL, code);
}

char *report_json_dump(struct report *r)
{
	json_t *out = json_pack("{s:s}", "tcptune", PACKAGE_VERSION);
	char *s;

	if (!out || json_object_update(out, r->doc) < 0) {
		json_decref(out);
		return NULL;
	}
	s = json_dumps(out, (r->lines ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
	json_decref(out);
	return s;
}

int report_json_write(struct report *r)
{
	char *s;
	int ret;

	if (!r->used)
		return 0;
	if (r->oom)
		return -ENOMEM;
	s = report_json_dump(r);
	if (!s)
		return -ENOMEM;
	if (r->stream_key)
		ret = report_stream_rest(r, s);
	else
		ret = report_sink(r, s, strlen(s));
	if (ret == 0)
		ret = report_sink(r, "\n", 1);
	free(s);
	return ret;
}
