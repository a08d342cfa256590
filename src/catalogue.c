/* SPDX-License-Identifier: ISC */
/* catalogue.c: the sysctl keys tcptune knows, with sane ranges, defaults and caveats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "util.h"

/* Sources named in .source; "live" means checked in a fresh netns on Linux 6.18. */
#define T_IPV4 "net/ipv4/sysctl_net_ipv4.c ipv4_net_table"
#define T_SKINIT "net/ipv4/tcp_ipv4.c tcp_sk_init()"
#define T_CORE "net/core/sysctl_net_core.c netns_core_table"
#define T_CT "net/netfilter/nf_conntrack_standalone.c nf_ct_sysctl_table"
#define LIVE "; default and range checked live in a fresh netns (Linux 6.18)"
#define INT_MAX_LL 2147483647LL

/* Kept sorted by key in strcmp() order: catalogue_find() bsearches it. */
static const struct catentry entries[] = {
	{
		.key = "fs.file-max",
		.type = CAT_INT, .arity = 1, .min = 8192, .max = 9223372036854775807LL,
		.dflt_note = "computed at boot: one file per 10 KiB of memory, at least NR_FILE (8192)",
		.scope = SCOPE_GLOBAL,
		.meaning = "maximum number of open file handles on the whole host",
		.caveat = "not namespaced: root in a container changes the host; per-process limits are RLIMIT_NOFILE and fs.nr_open",
		.source = "fs/file_table.c fs_stat_sysctls, files_maxfiles_init(); min 8192 = NR_FILE, max LONG_MAX (proc_doulongvec_minmax); read-only (EACCES) in a user namespace, checked live",
	},
	{
		.key = "fs.nr_open",
		.type = CAT_INT, .arity = 1, .min = 1024, .max = 1073741816,
		.dflt = "1048576",
		.scope = SCOPE_GLOBAL,
		.meaning = "ceiling for RLIMIT_NOFILE: the most file descriptors one process may have",
		.caveat = "raising it does not raise anyone's limit; set LimitNOFILE= or ulimit -n as well",
		.source = "fs/file_table.c fs_stat_sysctls; fs/file.c sysctl_nr_open = 1024*1024, sysctl_nr_open_min = BITS_PER_LONG, sysctl_nr_open_max = INT_MAX & -BITS_PER_LONG; sane max 1073741816 (2^30 - 8, the limit of older kernels and the usual systemd value), min 1024 (the usual soft RLIMIT_NOFILE); read-only (EACCES) in a user namespace, checked live",
	},
	{
		.key = "net.core.default_qdisc",
		.type = CAT_STR, .arity = 1,
		.dflt = "pfifo_fast",
		.dflt_note = "CONFIG_DEFAULT_NET_SCH; systemd's 50-default.conf sets fq_codel",
		.scope = SCOPE_HOST,
		.meaning = "queueing discipline given to network devices created from now on",
		.caveat = "affects only devices set up after the change; an unknown or unloaded qdisc fails with ENOENT",
		.source = "net/core/sysctl_net_core.c net_core_table set_default_qdisc(); absent (ENOENT) in a child netns, checked live",
	},
	{
		.key = "net.core.netdev_max_backlog",
		.type = CAT_INT, .arity = 1, .min = 1, .max = INT_MAX_LL,
		.dflt = "1000",
		.scope = SCOPE_HOST,
		.meaning = "packets queued per CPU between the driver and the stack before drops",
		.caveat = "drops show in /proc/net/softnet_stat column 2; unrelated to the listen backlog (somaxconn)",
		.source = "net/core/sysctl_net_core.c net_core_table (proc_dointvec, no range; sane min 1); absent (ENOENT) in a child netns, checked live",
	},
	{
		.key = "net.core.rmem_default",
		.type = CAT_INT, .arity = 1, .min = 8192, .max = INT_MAX_LL,
		.dflt = "212992",
		.dflt_note = "SK_RMEM_DEFAULT = 256 * SKB_TRUESIZE(256): 212992 on x86_64, differs with struct sk_buff size",
		.scope = SCOPE_HOST_RO,
		.meaning = "initial receive buffer of non-TCP sockets (TCP uses tcp_rmem[1])",
		.caveat = "TCP ignores it; on older kernels it is absent in a child netns instead of read-only",
		.source = T_CORE " (proc_dointvec_minmax, min SOCK_MIN_RCVBUF; sane min 8192 is above it on every arch); net/core/net_namespace.c net_defaults_init_net(); read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.core.rmem_max",
		.type = CAT_INT, .arity = 1, .min = 8192, .max = INT_MAX_LL,
		.dflt_note = "4194304 on Linux 6.18 (sock.c: 4 << 20); 212992 (SK_RMEM_MAX) on older kernels",
		.scope = SCOPE_HOST_RO,
		.meaning = "largest receive buffer an application may ask for with SO_RCVBUF",
		.caveat = "caps SO_RCVBUF only: TCP autotuning is capped by tcp_rmem[2], not by this",
		.source = "net/core/sock.c sysctl_rmem_max; " T_CORE " (min SOCK_MIN_RCVBUF); read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.core.somaxconn",
		.type = CAT_INT, .arity = 1, .min = 1, .max = INT_MAX_LL,
		.dflt = "4096",
		.dflt_note = "SOMAXCONN, 4096 since Linux 5.4 (128 before)",
		.scope = SCOPE_NETNS,
		.meaning = "upper bound on the accept queue length an application passes to listen()",
		.caveat = "the smaller of this and the listen() backlog wins; containers start at 4096 whatever the host says",
		.source = T_CORE " (proc_dointvec_minmax, min 0: -1 is EINVAL, 0 accepted; sane min 1); net/core/net_namespace.c net_defaults_init_net()" LIVE,
	},
	{
		.key = "net.core.wmem_default",
		.type = CAT_INT, .arity = 1, .min = 8192, .max = INT_MAX_LL,
		.dflt = "212992",
		.dflt_note = "SK_WMEM_DEFAULT = 256 * SKB_TRUESIZE(256): 212992 on x86_64, differs with struct sk_buff size",
		.scope = SCOPE_HOST_RO,
		.meaning = "initial send buffer of non-TCP sockets (TCP uses tcp_wmem[1])",
		.caveat = "TCP ignores it; on older kernels it is absent in a child netns instead of read-only",
		.source = T_CORE " (proc_dointvec_minmax, min SOCK_MIN_SNDBUF; sane min 8192 is above it on every arch); read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.core.wmem_max",
		.type = CAT_INT, .arity = 1, .min = 8192, .max = INT_MAX_LL,
		.dflt_note = "4194304 on Linux 6.18 (sock.c: 4 << 20); 212992 (SK_WMEM_MAX) on older kernels",
		.scope = SCOPE_HOST_RO,
		.meaning = "largest send buffer an application may ask for with SO_SNDBUF",
		.caveat = "caps SO_SNDBUF only: TCP autotuning is capped by tcp_wmem[2], not by this",
		.source = "net/core/sock.c sysctl_wmem_max; " T_CORE " (min SOCK_MIN_SNDBUF); read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.ipv4.ip_local_port_range",
		.type = CAT_VEC, .arity = 2, .min = 1, .max = 65535,
		.dflt = "32768 60999",
		.floor_key = "net.ipv4.ip_unprivileged_port_start",
		.scope = SCOPE_NETNS,
		.meaning = "ephemeral ports for outgoing connections: low high",
		.caveat = "limits connections per destination address and port, not in total; low must be >= ip_unprivileged_port_start and <= high",
		.source = T_IPV4 " ipv4_local_port_range() (each 1..65535, high >= low, low >= ip_unprivileged_port_start: \"500 60000\" is EINVAL at the default 1024; that floor is the live ip_unprivileged_port_start, checked by plan, not a fixed 1024); net/ipv4/af_inet.c inet_init_net()" LIVE,
	},
	{
		.key = "net.ipv4.ip_local_reserved_ports",
		.type = CAT_STR, .arity = 1,
		.dflt = "",
		.scope = SCOPE_NETNS,
		.meaning = "ports (comma-separated, ranges as a-b) never picked as ephemeral ports",
		.caveat = "a list, not a word: 0..65535, no spaces; the kernel prints it merged (\"1,2,3-5\" reads back \"1-5\"); an empty write changes nothing, clear it by writing a newline",
		.source = T_IPV4 " (proc_do_large_bitmap); format, merging and the empty write checked live in a fresh netns (Linux 6.18)",
	},
	{
		.key = "net.ipv4.ip_unprivileged_port_start",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 65535,
		.dflt = "1024",
		.scope = SCOPE_NETNS,
		.since = "4.11",
		.meaning = "first port that binding does not require CAP_NET_BIND_SERVICE",
		.caveat = "must stay <= the low end of ip_local_port_range, or the write fails with EINVAL",
		.source = T_IPV4 " ipv4_privileged_ports() (0..65535 and <= ip_local_port_range low: 32769 is EINVAL at low 32768); net/ipv4/af_inet.c inet_init_net()" LIVE,
	},
	{
		.key = "net.ipv4.tcp_abort_on_overflow",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "0",
		.scope = SCOPE_NETNS,
		.meaning = "1: reset new connections when the accept queue is full instead of dropping the ACK",
		.caveat = "hides a slow accept() loop from clients that would have retried; fix the application or the backlog instead",
		.source = T_IPV4 " (u8, kernel accepts 0..255; only 0 and 1 mean something)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_allowed_congestion_control",
		.type = CAT_STR, .arity = 1,
		.dflt_note = "the built-in algorithms and the default; depends on the kernel build and loaded modules",
		.scope = SCOPE_HOST_RO,
		.meaning = "congestion control algorithms unprivileged sockets and child netns may choose (space-separated)",
		.caveat = "a list of words; a child netns cannot switch tcp_congestion_control to one not in this list (EPERM)",
		.source = T_IPV4 " proc_allowed_congestion_control(); no data pointer, so read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.ipv4.tcp_available_congestion_control",
		.type = CAT_STR, .arity = 1,
		.dflt_note = "the algorithms built in or loaded as modules",
		.scope = SCOPE_HOST_RO,
		.meaning = "congestion control algorithms the kernel has (read-only, space-separated)",
		.caveat = "mode 0444 everywhere: report it, never set it; load tcp_<name> modules to extend it",
		.source = T_IPV4 " proc_tcp_available_congestion_control() (mode 0444), checked live",
	},
	{
		.key = "net.ipv4.tcp_congestion_control",
		.type = CAT_STR, .arity = 1,
		.dflt_note = "CONFIG_DEFAULT_TCP_CONG: cubic upstream and on most distributions (bbr on some builds)",
		.scope = SCOPE_NETNS_COPY,
		.meaning = "congestion control algorithm for new TCP sockets",
		.caveat = "a new netns copies the host's value; from a child netns only algorithms in tcp_allowed_congestion_control are accepted (EPERM), unknown names fail with ENOENT",
		.source = T_IPV4 " proc_tcp_congestion_control(); " T_SKINIT " copies init_net's; EPERM and ENOENT checked live in a fresh netns (Linux 6.18)",
	},
	{
		.key = "net.ipv4.tcp_ecn",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 2,
		.dflt = "2",
		.scope = SCOPE_NETNS,
		.meaning = "ECN: 0 off, 1 request and accept, 2 accept only when the peer asks",
		.caveat = "1 can hurt through old middleboxes that drop ECN-marked SYNs (tcp_ecn_fallback helps)",
		.source = T_IPV4 " (u8, 0..2, 3 is EINVAL); " T_SKINIT LIVE,
	},
	{
		.key = "net.ipv4.tcp_fastopen",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 0x607,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "TCP Fast Open bits: 1 client, 2 server, 4 client without cookie, 0x200 server without cookie, 0x400 server on all listeners",
		.caveat = "servers still need TCP_FASTOPEN on the socket unless 0x400; data in the SYN may be replayed",
		.source = "include/net/tcp.h TFO_* bits (0x607 is all of them); " T_IPV4 " (proc_dointvec, no range: 8 is accepted); " T_SKINIT LIVE,
	},
	{
		.key = "net.ipv4.tcp_fin_timeout",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 120,
		.dflt = "60",
		.scope = SCOPE_NETNS,
		.meaning = "seconds an orphaned connection stays in FIN_WAIT2 waiting for the peer's FIN",
		.caveat = "does not change TIME_WAIT, which is fixed at 60 s (TCP_TIMEWAIT_LEN); it only reaps orphaned FIN_WAIT2",
		.source = T_IPV4 " (proc_dointvec_jiffies: 0 and -1 accepted); " T_SKINIT " = TCP_FIN_TIMEOUT; sane max 120 = TCP_FIN_TIMEOUT_MAX, the TCP_LINGER2 limit" LIVE,
	},
	{
		.key = "net.ipv4.tcp_keepalive_intvl",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 32767,
		.dflt = "75",
		.scope = SCOPE_NETNS,
		.meaning = "seconds between keepalive probes",
		.caveat = "only for sockets with SO_KEEPALIVE; a dead peer is noticed after time + probes * intvl",
		.source = T_IPV4 " (proc_dointvec_jiffies: 0 and -1 accepted); " T_SKINIT " = TCP_KEEPALIVE_INTVL; sane range = TCP_KEEPINTVL limits (MAX_TCP_KEEPINTVL)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_keepalive_probes",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 127,
		.dflt = "9",
		.scope = SCOPE_NETNS,
		.meaning = "unanswered keepalive probes before the connection is reset",
		.caveat = "only for sockets with SO_KEEPALIVE; keepalive may abort a CLOSE_WAIT connection but never closes the leaked descriptor",
		.source = T_IPV4 " (u8, kernel accepts 0..255); " T_SKINIT " = TCP_KEEPALIVE_PROBES; sane range = TCP_KEEPCNT limits (MAX_TCP_KEEPCNT 127)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_keepalive_time",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 32767,
		.dflt = "7200",
		.scope = SCOPE_NETNS,
		.meaning = "idle seconds before the first keepalive probe",
		.caveat = "only for sockets with SO_KEEPALIVE (many applications set TCP_KEEPIDLE themselves); the host value does not reach containers",
		.source = T_IPV4 " (proc_dointvec_jiffies: 0 and -1 accepted); " T_SKINIT " = TCP_KEEPALIVE_TIME; sane range = TCP_KEEPIDLE limits (MAX_TCP_KEEPIDLE)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_max_orphans",
		.type = CAT_INT, .arity = 1, .min = 1, .max = INT_MAX_LL,
		.dflt_note = "computed at boot: half the TCP established hash size (which scales with memory)",
		.scope = SCOPE_HOST,
		.meaning = "most sockets no process holds (closed, still sending FIN) before they are reset",
		.caveat = "\"too many orphaned sockets\" in dmesg means this or tcp_mem was hit; each orphan can pin up to tcp_wmem[2]",
		.source = "net/ipv4/sysctl_net_ipv4.c ipv4_table (proc_dointvec, no range); net/ipv4/tcp.c tcp_init(); absent (ENOENT) in a child netns, checked live",
	},
	{
		.key = "net.ipv4.tcp_max_syn_backlog",
		.type = CAT_INT, .arity = 1, .min = 128, .max = INT_MAX_LL,
		.dflt_note = "computed per netns: max(128, TCP established hash entries / 128)",
		.scope = SCOPE_NETNS,
		.meaning = "half-open connections (SYN_RECV) kept per listener when syncookies are off",
		.caveat = "with tcp_syncookies=1 the listen() backlog and somaxconn matter more; this only bounds the SYN queue",
		.source = T_IPV4 " (proc_dointvec: -1 accepted); net/ipv4/tcp_ipv4.c tcp_set_hashinfo(); sane min 128 = the kernel's own floor" LIVE,
	},
	{
		.key = "net.ipv4.tcp_max_tw_buckets",
		.type = CAT_INT, .arity = 1, .min = 1, .max = INT_MAX_LL,
		.dflt_note = "computed per netns: TCP established hash entries / 2",
		.scope = SCOPE_NETNS,
		.meaning = "most TIME_WAIT sockets kept in this netns",
		.caveat = "lowering it does not make TIME_WAIT shorter: sockets beyond it skip TIME_WAIT (TCPTimeWaitOverflow) and lose its protection",
		.source = T_IPV4 " (proc_dointvec: -1 and 0 accepted; 0 would disable TIME_WAIT); net/ipv4/tcp_ipv4.c tcp_set_hashinfo()" LIVE,
	},
	{
		.key = "net.ipv4.tcp_mem",
		.type = CAT_VEC, .arity = 3, .min = 1, .max = 1099511627776LL,
		.dflt_note = "computed at boot from free memory: about 4.7%, 6.25% and 9.4% of it, in pages",
		.scope = SCOPE_HOST,
		.meaning = "TCP memory for the whole host in pages: low, pressure, high",
		.caveat = "counted in pages, not bytes; must be low <= pressure <= high; host-wide, absent in containers",
		.source = "net/ipv4/sysctl_net_ipv4.c ipv4_table (proc_doulongvec_minmax, no range); net/ipv4/tcp.c tcp_init_mem(); absent (ENOENT) in a child netns, checked live",
	},
	{
		.key = "net.ipv4.tcp_mtu_probing",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 2,
		.dflt = "0",
		.scope = SCOPE_NETNS,
		.meaning = "packetization-layer path MTU discovery: 0 off, 1 after an ICMP black hole is detected, 2 always",
		.caveat = "1 is the usual fix for connections that hang behind paths dropping ICMP fragmentation-needed",
		.source = T_IPV4 " (u8, kernel accepts 0..255; only 0..2 mean something)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_no_metrics_save",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "0",
		.scope = SCOPE_NETNS,
		.meaning = "1: do not cache RTT and cwnd per destination when a connection closes",
		.caveat = "the cache can carry a bad ssthresh from one congested episode into later connections",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_notsent_lowat",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 4294967295LL,
		.dflt = "4294967295",
		.scope = SCOPE_NETNS,
		.meaning = "unsent bytes in the send queue above which the socket is not reported writable",
		.caveat = "4294967295 means off; small values (e.g. 131072) cut latency for HTTP/2 servers",
		.source = T_IPV4 " (proc_douintvec: -1 and 2^32 are EINVAL); " T_SKINIT " = UINT_MAX" LIVE,
	},
	{
		.key = "net.ipv4.tcp_orphan_retries",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 255,
		.dflt = "0",
		.scope = SCOPE_NETNS,
		.meaning = "retransmissions before an orphaned connection is killed (0 means 8)",
		.caveat = "0 is not \"none\": the kernel uses 8 then",
		.source = T_IPV4 " (u8); net/ipv4/tcp_timer.c tcp_orphan_retries()" LIVE,
	},
	{
		.key = "net.ipv4.tcp_retries2",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 255,
		.dflt = "15",
		.scope = SCOPE_NETNS,
		.meaning = "retransmissions of data before an established connection is given up (15 is about 15 minutes)",
		.caveat = "values below 8 go under RFC 1122's 100 s minimum; it is a count of backed-off timeouts, not seconds",
		.source = T_IPV4 " (u8, kernel accepts 0..255); " T_SKINIT " = TCP_RETR2" LIVE,
	},
	{
		.key = "net.ipv4.tcp_rfc1337",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "0",
		.scope = SCOPE_NETNS,
		.meaning = "1: ignore RST for sockets in TIME_WAIT (RFC 1337 assassination hazard)",
		.caveat = NULL,
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_rmem",
		.type = CAT_VEC, .arity = 3, .min = 1, .max = INT_MAX_LL,
		.dflt_note = "computed at boot in init_net: PAGE_SIZE, 131072, max(131072, min(32 MiB, memory share)); \"4096 131072 33554432\" on Linux 6.18 with >= 4 GiB, max 6291456 on older kernels",
		.scope = SCOPE_NETNS_COPY,
		.meaning = "TCP receive buffer per socket in bytes: min, default, max (autotuning limit)",
		.caveat = "must be min <= default <= max; a new netns copies the host's value; a write that fails half way keeps the leading numbers",
		.source = T_IPV4 " (proc_dointvec_minmax, each >= 1, no order check: \"9000 100 50\" accepted); net/ipv4/tcp.c tcp_init(); " T_SKINIT " copies init_net's; checked live in a fresh netns (Linux 6.18)",
	},
	{
		.key = "net.ipv4.tcp_sack",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "selective acknowledgements",
		.caveat = "turning it off slows recovery from loss a lot; the old SACK CVEs are fixed in the kernel",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_slow_start_after_idle",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "1: shrink the congestion window after an idle period (RFC 2861)",
		.caveat = "0 helps long-lived connections that send in bursts (HTTP keep-alive, RPC)",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_syn_retries",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 127,
		.dflt = "6",
		.scope = SCOPE_NETNS,
		.meaning = "SYN retransmissions of connect() before it fails (6 is about 127 s)",
		.caveat = "applications usually want a connect timeout of their own instead",
		.source = T_IPV4 " (u8, 1..MAX_TCP_SYNCNT: 0 and 128 are EINVAL); " T_SKINIT " = TCP_SYN_RETRIES" LIVE,
	},
	{
		.key = "net.ipv4.tcp_synack_retries",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 127,
		.dflt = "5",
		.scope = SCOPE_NETNS,
		.meaning = "SYN-ACK retransmissions for a half-open incoming connection",
		.caveat = "lowering it sheds SYN floods sooner but hurts clients on lossy links",
		.source = T_IPV4 " (u8, kernel accepts 0..255; sane range as tcp_syn_retries); " T_SKINIT " = TCP_SYNACK_RETRIES" LIVE,
	},
	{
		.key = "net.ipv4.tcp_syncookies",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 2,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "SYN cookies: 0 off, 1 when the SYN queue overflows, 2 always",
		.caveat = "cookies lose TCP options that do not fit; 1 is the right value almost always",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_timestamps",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 2,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "TCP timestamps: 0 off, 1 on with a random offset per connection, 2 on without the offset",
		.caveat = "tcp_tw_reuse and PAWS need them; turning them off makes tcp_tw_reuse do nothing",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_tw_reuse",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 2,
		.dflt = "2",
		.scope = SCOPE_NETNS,
		.meaning = "reuse a TIME_WAIT port for a new outgoing connection: 0 never, 1 always when safe, 2 loopback only",
		.caveat = "outgoing connections only and needs tcp_timestamps on both ends; tcp_tw_recycle, which broke clients behind NAT, is gone since 4.12",
		.source = T_IPV4 " (u8 0..2, 3 is EINVAL); " T_SKINIT LIVE,
	},
	{
		.key = "net.ipv4.tcp_tw_reuse_delay",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 60000,
		.dflt = "1000",
		.scope = SCOPE_NETNS,
		.since = "6.14",
		.meaning = "milliseconds a TIME_WAIT socket must have existed before tcp_tw_reuse may take its port",
		.caveat = "in milliseconds; only matters with tcp_tw_reuse 1 or 2; absent before 6.14 (mark it optional)",
		.source = T_IPV4 " (proc_douintvec_minmax 1..TCP_PAWS_MSL*1000: 0 and 60001 are EINVAL); " T_SKINIT " = 1 * MSEC_PER_SEC" LIVE,
	},
	{
		.key = "net.ipv4.tcp_window_scaling",
		.type = CAT_INT, .arity = 1, .min = 0, .max = 1,
		.dflt = "1",
		.scope = SCOPE_NETNS,
		.meaning = "RFC 7323 window scaling, needed for windows above 64 KiB",
		.caveat = "turning it off caps throughput at 64 KiB per round trip",
		.source = T_IPV4 " (u8, kernel accepts 0..255)" LIVE,
	},
	{
		.key = "net.ipv4.tcp_wmem",
		.type = CAT_VEC, .arity = 3, .min = 1, .max = INT_MAX_LL,
		.dflt = "4096 16384 4194304",
		.dflt_note = "computed at boot in init_net: PAGE_SIZE, 16384, max(64 KiB, min(4 MiB, memory share)); this is the value with 4 KiB pages and >= 512 MiB",
		.scope = SCOPE_NETNS_COPY,
		.meaning = "TCP send buffer per socket in bytes: min, default, max (autotuning limit)",
		.caveat = "must be min <= default <= max; a new netns copies the host's value; \"8192 32768 -1\" fails with EINVAL but stores the first two numbers",
		.source = T_IPV4 " (proc_dointvec_minmax, each >= 1, no order check); net/ipv4/tcp.c tcp_init(); " T_SKINIT " copies init_net's; partial write checked live in a fresh netns (Linux 6.18)",
	},
	{
		.key = "net.netfilter.nf_conntrack_max",
		.type = CAT_INT, .arity = 1, .min = 1024, .max = INT_MAX_LL,
		.dflt_note = "computed at boot from memory: the conntrack hash size (262144 with >= 4 GiB)",
		.scope = SCOPE_HOST_RO,
		.meaning = "most connections the firewall tracks before dropping new ones",
		.caveat = "\"nf_conntrack: table full, dropping packet\" in dmesg; exists only with nf_conntrack loaded",
		.source = T_CT " (proc_dointvec_minmax 0..INT_MAX); net/netfilter/nf_conntrack_core.c nf_conntrack_init_start(); read-only (EACCES) in a child netns, checked live",
	},
	{
		.key = "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 2147483,
		.dflt = "60",
		.scope = SCOPE_NETNS,
		.meaning = "seconds a conntrack entry in CLOSE_WAIT is kept",
		.caveat = "ages firewall entries, not sockets: it does nothing for CLOSE_WAIT sockets an application never closes",
		.source = T_CT " (proc_dointvec_jiffies: 0 and -1 accepted); net/netfilter/nf_conntrack_proto_tcp.c tcp_timeouts[]; sane max fits jiffies at HZ=1000" LIVE,
	},
	{
		.key = "net.netfilter.nf_conntrack_tcp_timeout_established",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 2147483,
		.dflt = "432000",
		.scope = SCOPE_NETNS,
		.meaning = "seconds an idle established connection stays in the conntrack table (5 days)",
		.caveat = "lower it below the applications' idle time and NAT drops their idle connections silently",
		.source = T_CT " (proc_dointvec_jiffies: 0 and -1 accepted); net/netfilter/nf_conntrack_proto_tcp.c tcp_timeouts[]; sane max fits jiffies at HZ=1000" LIVE,
	},
	{
		.key = "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 2147483,
		.dflt = "120",
		.scope = SCOPE_NETNS,
		.meaning = "seconds a conntrack entry in TIME_WAIT is kept",
		.caveat = "ages firewall entries, not sockets: socket TIME_WAIT stays 60 s",
		.source = T_CT " (proc_dointvec_jiffies: 0 and -1 accepted); net/netfilter/nf_conntrack_proto_tcp.c tcp_timeouts[]; sane max fits jiffies at HZ=1000" LIVE,
	},
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

static int entry_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct catentry *)e)->key);
}

const struct catentry *catalogue_find(const char *key)
{
	if (!key)
		return NULL;
	return bsearch(key, entries, N_ENTRIES, sizeof(entries[0]), entry_cmp);
}

const struct catentry *catalogue_all(size_t *ret_n)
{
	if (ret_n)
		*ret_n = N_ENTRIES;
	return entries;
}

const char *catalogue_scope_name(enum cat_scope s)
{
	switch (s) {
	case SCOPE_NETNS:
		return "netns";
	case SCOPE_NETNS_COPY:
		return "netns-copied";
	case SCOPE_HOST:
		return "host";
	case SCOPE_HOST_RO:
		return "host-readonly";
	case SCOPE_GLOBAL:
		return "global";
	}
	return "unknown";
}

const char *catalogue_type_name(enum cat_type t)
{
	switch (t) {
	case CAT_INT:
		return "integer";
	case CAT_VEC:
		return "vector";
	case CAT_STR:
		return "string";
	}
	return "unknown";
}

static const char *last_component(const char *key)
{
	const char *dot = strrchr(key, '.');

	return dot ? dot + 1 : key;
}

/* The entry nearest to `key`, comparing whole keys or only last components. */
static const char *nearest(const char *key, bool last_only)
{
	const char *best = NULL, *k = last_only ? last_component(key) : key;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < N_ENTRIES; i++) {
		const char *c = last_only ? last_component(entries[i].key) : entries[i].key;
		size_t d = edit_near(k, c);

		if (d < best_d) {
			best = entries[i].key;
			best_d = d;
		}
	}
	return best;
}

const char *catalogue_suggest(const char *key)
{
	const char *best;
	char *canon = NULL;

	if (!key || !*key)
		return NULL;
	/* "net/ipv4/tcp_keepalive_tim" deserves the same answer as the dotted form. */
	if (key_normalize(key, &canon) == 0)
		key = canon;
	best = nearest(key, false);
	/* A missing or wrong prefix: "tcp_keepalive_tim", "net.ipv6.tcp_rmem". */
	if (!best)
		best = nearest(key, true);
	free(canon);
	return best;
}

static int check_int(const struct catentry *e, const char *tok, size_t i, size_t n,
		     long long *ret, struct msgs *m)
{
	long long v;
	int r = parse_ll(tok, &v);

	if (r == 0 && v >= e->min && v <= e->max) {
		*ret = v;
		return 0;
	}
	if (n > 1)
		msgs_add(m, "value %zu of %zu must be an integer in %lld..%lld, not %s",
			 i + 1, n, e->min, e->max, tok);
	else
		msgs_add(m, "must be an integer in %lld..%lld, not %s",
			 e->min, e->max, tok);
	return -EINVAL;
}

static bool word_valid(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') || *w == '_' || *w == '-'))
			return false;
	return true;
}

static bool is_number(const char *s)
{
	long long dummy;

	return parse_ll(s, &dummy) == 0;
}

/* One word (or, for the congestion control lists, one or more words). */
static int check_words(const char *value, bool list, struct msgs *m)
{
	char **tok;
	size_t n = value_split(value, &tok);
	int r = -EINVAL;

	if (n == 0)
		msgs_add(m, "expects a word, got nothing");
	else if (is_number(tok[0]))
		msgs_add(m, "expects a word, got a number%s", n > 1 ? " list" : "");
	else if (n > 1 && !list)
		msgs_add(m, "expects one word, got %zu", n);
	else
		r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (is_number(tok[i]) || !word_valid(tok[i])) {
			msgs_add(m, "expects %s of [a-z0-9_-], not \"%s\"",
				 list ? "words" : "a word", tok[i]);
			r = -EINVAL;
		}
	strv_free(tok, n);
	return r;
}

/* A port number 0..65535 at *p, advancing past it. */
static int port_at(const char **p, long long *ret)
{
	long long v = 0;
	const char *s = *p;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	while (**p >= '0' && **p <= '9' && *p - s < 6)
		v = v * 10 + (*(*p)++ - '0');
	if (v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

/*
 * ip_local_reserved_ports, as proc_do_large_bitmap() takes it: ports and
 * ranges "a-b" (a <= b) joined by commas, no spaces; empty is the empty set.
 */
static int check_port_list(const char *value, struct msgs *m)
{
	const char *p = value;

	while (*p) {
		long long lo, hi;

		if (port_at(&p, &lo) < 0)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (port_at(&p, &hi) < 0 || hi < lo)
				goto bad;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	msgs_add(m, "expects ports 0..65535 or ranges a-b joined by commas without spaces, not \"%s\"",
		 value);
	return -EINVAL;
}

char *catalogue_canonical(const struct catentry *e, const char *value)
{
	static unsigned char set[65536 / 8];
	const char *p = value;
	char *buf = NULL, *ret;
	size_t len = 0;
	bool first = true;
	FILE *f;

	if (!e || !value || strcmp(e->key, "net.ipv4.ip_local_reserved_ports"))
		return NULL;
	memset(set, 0, sizeof(set));
	while (*p) {
		long long lo, hi;

		if (port_at(&p, &lo) < 0)
			return NULL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (port_at(&p, &hi) < 0 || hi < lo)
				return NULL;
		}
		for (long long i = lo; i <= hi; i++)
			set[i / 8] |= (unsigned char)(1u << (i % 8));
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return NULL;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	for (long i = 0; i < 65536; i++) {
		long j = i;

		if (!(set[i / 8] & (1u << (i % 8))))
			continue;
		while (j + 1 < 65536 && (set[(j + 1) / 8] & (1u << ((j + 1) % 8))))
			j++;
		fprintf(f, j > i ? "%s%ld-%ld" : "%s%ld", first ? "" : ",", i, j);
		first = false;
		i = j;
	}
	if (fclose(f) != 0)
		abort();
	ret = buf;
	return ret;
}

/*
 * Vectors whose elements are an ordered triple or pair. The kernel checks
 * the order only for ip_local_port_range; for the memory triples it stores
 * "9000 100 50" but autotuning then clamps between nonsense, so refuse it.
 */
static int check_order(const struct catentry *e, const long long *v, size_t n,
		       struct msgs *m)
{
	static const char *const names3[] = { "min", "default", "max" };
	static const char *const names_mem[] = { "low", "pressure", "high" };
	const char *const *names = strcmp(e->key, "net.ipv4.tcp_mem") == 0 ? names_mem : names3;

	if (strcmp(e->key, "net.ipv4.ip_local_port_range") == 0) {
		if (v[0] > v[1]) {
			msgs_add(m, "low port %lld is above high port %lld", v[0], v[1]);
			return -EINVAL;
		}
		return 0;
	}
	if (n != 3)
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (v[i] > v[i + 1]) {
			msgs_add(m, "%s %lld is above %s %lld (needs %s <= %s <= %s)",
				 names[i], v[i], names[i + 1], v[i + 1],
				       names[0], names[1], names[2]);
			return -EINVAL;
		}
	return 0;
}

/* include/net/tcp.h TFO_*: client, server, client no cookie, server no cookie, all listeners. */
#define TFO_KNOWN_BITS 0x607LL

static int check_bits(const struct catentry *e, long long v, struct msgs *m)
{
	if (strcmp(e->key, "net.ipv4.tcp_fastopen") == 0 && (v & ~TFO_KNOWN_BITS)) {
		msgs_add(m, "has unknown bits 0x%llx (known: 0x1 0x2 0x4 0x200 0x400)",
			 v & ~TFO_KNOWN_BITS);
		return -EINVAL;
	}
	return 0;
}

static bool is_word_list(const struct catentry *e)
{
	return strcmp(e->key, "net.ipv4.tcp_allowed_congestion_control") == 0 ||
	       strcmp(e->key, "net.ipv4.tcp_available_congestion_control") == 0;
}

int catalogue_check(const struct catentry *e, const char *value, struct msgs *m)
{
	long long v[8];
	char **tok;
	size_t n, want;
	int r = 0;

	if (!e || !value) {
		msgs_add(m, "no value");
		return -EINVAL;
	}
	if (strcmp(e->key, "net.ipv4.ip_local_reserved_ports") == 0)
		return check_port_list(value, m);
	if (e->type == CAT_STR)
		return check_words(value, is_word_list(e), m);

	want = e->type == CAT_VEC ? e->arity : 1;
	n = value_split(value, &tok);
	if (n != want || want > sizeof(v) / sizeof(v[0])) {
		const char *word = NULL;

		for (size_t i = 0; i < n && !word; i++)
			if (!is_number(tok[i]))
				word = tok[i];
		if (word && want > 1)
			msgs_add(m, "needs %zu integers, got \"%s\"", want, word);
		else if (want == 1)
			msgs_add(m, "needs one integer in %lld..%lld, got %zu values",
				 e->min, e->max, n);
		else
			msgs_add(m, "needs %zu integers, got %zu", want, n);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = check_int(e, tok[i], i, n, &v[i], m);
		if (r == 0)
			r = check_bits(e, v[i], m);
		if (r < 0)
			goto out;
	}
	if (e->type == CAT_VEC)
		r = check_order(e, v, n, m);
out:
	strv_free(tok, n);
	return r;
}

/* Keys admins still copy from old tuning guides. */
static const struct {
	const char *key, *why;
} removed[] = {
	{ "net.ipv4.tcp_tw_recycle",
	  "removed in Linux 4.12 (it broke clients behind NAT); for TIME_WAIT on outgoing "
	  "connections use net.ipv4.tcp_tw_reuse = 1" },
};

const char *catalogue_removed(const char *key)
{
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++)
		if (strcmp(removed[i].key, key) == 0)
			return removed[i].why;
	return NULL;
}

/* Keys whose numbers are bytes or seconds, for views that show units. */
enum cat_unit catalogue_unit(const char *key)
{
	static const char *const bytes[] = {
		"net.core.rmem_default", "net.core.rmem_max", "net.core.wmem_default",
		"net.core.wmem_max", "net.ipv4.tcp_notsent_lowat", "net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem",
	};
	static const char *const seconds[] = {
		"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_time",
		"net.netfilter.nf_conntrack_tcp_timeout_close_wait",
		"net.netfilter.nf_conntrack_tcp_timeout_established",
		"net.netfilter.nf_conntrack_tcp_timeout_time_wait",
	};

	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
		if (!strcmp(key, bytes[i]))
			return UNIT_BYTES;
	for (size_t i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++)
		if (!strcmp(key, seconds[i]))
			return UNIT_SECONDS;
	return UNIT_NONE;
}
