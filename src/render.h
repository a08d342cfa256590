/* SPDX-License-Identifier: ISC */
/* render.h: a merged profile written for the place it must go (sysctl.d, a pod, docker run). */
#pragma once
#include "procsys.h"
#include "profile.h"

enum render_as {
	RENDER_SYSCTLD,         /* the fragment apply writes */
	RENDER_KUBERNETES,      /* a pod's securityContext.sysctls */
	RENDER_DOCKER,          /* docker run --sysctl flags */
};

/* "sysctl.d", "kubernetes" or "docker"; 0, or -EINVAL for any other word. */
int render_as_parse(const char *word, enum render_as *ret);
const char *render_as_name(enum render_as as);
/*
 * Is the kubelet's default allow-list holding this key (no
 * --allowed-unsafe-sysctls needed)?
 */
bool render_kubelet_safe(const char *key);
/*
 * The text for a container's network namespace: only per-netns keys, with
 * values aimed at a fresh namespace (kernel defaults, not this host's live
 * values); host-wide keys named in a comment. ps may be NULL. Caller frees;
 * NULL on a stream failure.
 */
char *render_container(enum render_as as, const struct profile *p, const struct procsys *ps);
