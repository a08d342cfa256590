#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh: the sockets benchmark (by hand, not CI). usage: run.sh BUILDDIR [SIZE...]
# SIZE is 60k, 70k, 140k or 200kr (default 60k 200kr); 200kr is 200k
# CLOSE_WAIT clients, each toward its own loopback address: 200k distinct
# remotes in 200k sockets (tcp_fin_timeout 1 s ends the servers' FIN_WAIT2). Each size runs in a fresh unprivileged
# user+net+mount namespace with sockets on loopback only, bounded by gen.c.
set -eu
B=$(cd "${1:?usage: run.sh BUILDDIR [60k|70k|140k|200kr]...}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/tcptune-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cc -O2 -Wall -o "$W/gen" "$HERE/gen.c"
cc -O2 -Wall -o "$W/nlcount" "$HERE/nlcount.c"
cp "$B/tcptune" "$HERE/bench.py" "$W/"
chmod -R a+rX "$W"
chmod 1777 "$W"
REPS=${REPS:-5}
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
[ $# -gt 0 ] || set -- 60k 200kr
if [ "$(id -u)" -eq 0 ]; then
	NS="setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n -m --propagation private"
else
	NS="unshare -U -r -n -m --propagation private"
fi
for size in "$@"; do
	SPREAD= RANGE="1024 65535" FIN=60 QUICK=
	case $size in
	60k) TW=20000 EST=18000 CW=2000 ;;      # 20k + 36k + 2k + 2k FIN_WAIT2 = 60k
	# 200k remotes; the listeners' ports (9000 up) below the range
	200kr) TW=0 EST=0 CW=200000 SPREAD=spread RANGE="10000 65535" FIN=1 QUICK=1 ;;
	70k) TW=45000 EST=10000 CW=2500 ;;      # 45k + 20k + 2.5k + 2.5k FIN_WAIT2 = 70k
	140k) TW=90000 EST=20000 CW=5000 ;;     # 90k + 40k + 5k + 5k = 140k
	*) echo "size: 60k, 70k, 140k or 200kr" >&2; exit 2 ;;
	esac
	echo "== $size: TIME_WAIT $TW, ESTABLISHED $((2 * EST)), CLOSE_WAIT $CW (+ $CW FIN_WAIT2)"
	$NS sh -c "
		set -e
		ip link set lo up
		echo '$RANGE' > /proc/sys/net/ipv4/ip_local_port_range
		echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
		echo 262144 > /proc/sys/net/ipv4/tcp_max_tw_buckets
		echo $FIN > /proc/sys/net/ipv4/tcp_fin_timeout
		t0=\$(date +%s)
		$W/gen $W/ready-$size $TW $EST $CW 900 $SPREAD &
		G=\$!
		while [ ! -f $W/ready-$size ]; do sleep 0.2; kill -0 \$G; done
		echo \"generated in \$((\$(date +%s) - t0)) s\"
		[ $FIN -gt 1 ] || sleep 3
		unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
		QUICK=$QUICK $PY $W/bench.py $W/tcptune $W/nlcount $REPS
		kill \$G
		wait \$G || true
	"
done
