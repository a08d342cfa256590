/* report.c: the writer's core: a report from report_new() to report_finish(), its fields and key/value form. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "report-internal.h"
#include "util.h"

struct report *report_new(FILE *f, const struct report_cfg *cfg)
{
	struct report *r = xcalloc(1, sizeof(*r));

	r->f = f;
	r->cfg = *cfg;
	if (cfg->output) {
		int fd;

		r->out_tmp = xasprintf("%s.XXXXXX", cfg->output);
		fd = mkostemp(r->out_tmp, O_CLOEXEC);
		/* stdout itself goes to the temporary: whatever writes it lands there */
		if (fd < 0 || fchmod(fd, 0644) < 0 || fflush(f) != 0 || dup2(fd, fileno(f)) < 0) {
			int e = errno;

			if (fd >= 0) {
				close(fd);
				(void)unlink(r->out_tmp);
			}
			free(r->out_tmp);
			free(r);
			errno = e;
			return NULL;
		}
		close(fd);
	}
	r->buf = open_memstream(&r->mem, &r->memlen);
	if (!r->buf)
		abort();
	if (cfg->format == FMT_JSON) {
		r->doc = json_object();
		r->stack[0] = r->doc;
		r->oom = !r->doc;
	}
	return r;
}

enum format report_format(const struct report *r)
{
	return r->cfg.format;
}

void report_set_raw(struct report *r, bool raw)
{
	r->cfg.raw = raw;
}

bool report_on_tty(const struct report *r)
{
	return r->cfg.width > 0;
}

const char *report_where(const struct report *r)
{
	return r->cfg.output ? r->cfg.output : "stdout";
}

static void field(struct report *r, const char *key, const char *label, json_t *j, char *text)
{
	report_json_add(r, key, j);
	if (r->cfg.format == FMT_TABLE && label && text) {
		char *lead = xasprintf("%s%-*s ", r->in_kv ? "  " : "", r->kv_pad, label);

		r->used = true;
		report_text_put(r, STYLE_PLAIN, lead, report_width(lead), text);
		free(lead);
	}
	free(text);
}

void report_str(struct report *r, const char *key, const char *label, const char *v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? report_json_text(v) : NULL,
	      label && v ? report_escape_text(v) : NULL);
	/* a NULL string has no line in the text view */
}

void report_int(struct report *r, const char *key, const char *label, long long v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? json_integer(v) : NULL,
	      xasprintf("%lld", v));
}

void report_uint(struct report *r, const char *key, const char *label, unsigned long long v)
{
	/* JSON integers are signed 64-bit in jansson: larger values go as their decimal text */
	json_t *j = NULL;

	if (r->cfg.format == FMT_JSON)
		j = v > INT64_MAX ? json_sprintf("%llu", v) : json_integer((json_int_t)v);
	field(r, key, label, j, xasprintf("%llu", v));
}

void report_bool(struct report *r, const char *key, const char *label, bool v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? json_boolean(v) : NULL, xstrdup(v ? "yes" : "no"));
}

void report_real(struct report *r, const char *key, const char *label, double v)
{
	if (isnan(v))
		return;
	field(r, key, label, r->cfg.format == FMT_JSON ? json_real(v) : NULL, xasprintf("%.1f", v));
}

void report_null(struct report *r, const char *key, const char *label)
{
	(void)label;
	report_json_add(r, key, r->cfg.format == FMT_JSON ? json_null() : NULL);
}

void report_strv(struct report *r, const char *key, char *const *v, size_t n)
{
	report_array_begin(r, key);
	for (size_t i = 0; i < n; i++)
		report_str(r, NULL, NULL, v[i]);
	report_array_end(r);
}

void report_kv_begin(struct report *r, const char *key, enum style st, const char *heading,
		     int pad)
{
	report_object_begin(r, key);
	r->in_kv = true;
	r->kv_pad = pad;
	if (r->cfg.format == FMT_TABLE && heading) {
		char *e = report_escape_text(heading);

		r->used = true;
		report_text_put(r, st, "", 0, e);
		free(e);
	}
}

void report_kv_end(struct report *r)
{
	r->in_kv = false;
	r->kv_pad = 0;
	report_object_end(r);
}

bool report_used(const struct report *r)
{
	return r->used;
}

/* Write n bytes of s to the sink; a short write is an error too, and the first error sticks. */
int report_sink(struct report *r, const char *s, size_t n)
{
	if (r->err)
		return r->err;
	errno = 0;
	if ((n && fwrite(s, 1, n, r->f) != n) || fflush(r->f) != 0 || ferror(r->f))
		r->err = -(errno ? errno : EIO);
	return r->err;
}

int report_drain(struct report *r)
{
	int ret;

	if (fflush(r->buf) != 0)
		return -ENOMEM;
	ret = report_sink(r, r->mem, r->memlen);
	rewind(r->buf);
	r->memlen = 0;
	return ret;
}

int report_flush(struct report *r)
{
	if (r->cfg.format == FMT_JSON)
		return 0;
	return report_drain(r);
}

void report_set_lines(struct report *r, bool on)
{
	r->lines = on;
}

void report_redraw(struct report *r)
{
	if (r->cfg.format == FMT_TABLE && r->cfg.width)
		fputs("\033[H\033[2J", r->buf);
}

int report_next(struct report *r)
{
	int ret;

	if (r->cfg.format != FMT_JSON)
		return report_flush(r);
	while (r->depth > 0)
		report_json_pop(r);
	ret = report_json_write(r);
	json_decref(r->doc);
	r->doc = json_object();
	r->stack[0] = r->doc;
	r->oom |= !r->doc;
	r->used = false;
	free(r->stream_key);
	r->stream_key = NULL;
	r->stream_n = 0;
	return ret;
}

int report_finish(struct report *r, bool commit)
{
	int ret;

	if (r->t)
		report_table_end(r);
	ret = r->cfg.format == FMT_JSON ? report_json_write(r) : report_flush(r);
	free(r->stream_key);
	if (ret == 0)
		ret = report_sink(r, "", 0);
	if (r->out_tmp) {
		if (ret == 0 && fsync(fileno(r->f)) < 0)
			ret = -errno;
		if (ret == 0 && commit && rename(r->out_tmp, r->cfg.output) < 0)
			ret = -errno;
		if (ret < 0 || !commit)
			(void)unlink(r->out_tmp);
		free(r->out_tmp);
	}
	fclose(r->buf);
	free(r->mem);
	json_decref(r->doc);
	free(r);
	return ret;
}
