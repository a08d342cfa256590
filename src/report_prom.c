/* report_prom.c: the writer's Prometheus text: metric headers and samples. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "report-internal.h"

void report_prom_line(struct report *r, const char *name, char **labels, size_t n, double v)
{
	fputs(name, r->buf);
	for (size_t i = 0; i < n; i += 2) {
		char *e = report_escape_prom(labels[i + 1]);

		fprintf(r->buf, "%s%s=\"%s\"", i ? "," : "{", labels[i], e);
		free(e);
	}
	if (n)
		fputc('}', r->buf);
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		fprintf(r->buf, " %.0f\n", v);
	else
		fprintf(r->buf, " %g\n", v);
}

/* The row just finished, as a Prometheus sample: row labels and the table's, in their places. */
void report_metric(struct report *r, const char *name, const char *type, const char *help)
{
	if (r->cfg.format != FMT_PROMETHEUS)
		return;
	r->used = true;
	fprintf(r->buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void report_sample(struct report *r, const char *name, double value, ...)
{
	char *l[32];
	size_t n = 0;
	va_list ap;

	if (r->cfg.format != FMT_PROMETHEUS)
		return;
	va_start(ap, value);
	for (const char *s; n < 32 && (s = va_arg(ap, const char *));)
		l[n++] = (char *)s;
	va_end(ap);
	report_prom_line(r, name, l, n & ~(size_t)1, value);
}
