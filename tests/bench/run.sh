#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh: the sockets benchmark (by hand, not CI). usage: run.sh BUILDDIR [SIZE...]
# SIZE is 70k or 140k (default both). Each size runs in a fresh unprivileged
# user+net+mount namespace with sockets on loopback only, bounded by gen.c.
set -eu
B=$(cd "${1:?usage: run.sh BUILDDIR [70k|140k]...}" && pwd)
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
[ $# -gt 0 ] || set -- 70k 140k
if [ "$(id -u)" -eq 0 ]; then
	NS="setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n -m --propagation private"
else
	NS="unshare -U -r -n -m --propagation private"
fi
for size in "$@"; do
	case $size in
	70k) TW=45000 EST=10000 CW=2500 ;;      # 45k + 20k + 2.5k + 2.5k FIN_WAIT2 = 70k
	140k) TW=90000 EST=20000 CW=5000 ;;     # 90k + 40k + 5k + 5k = 140k
	*) echo "size: 70k or 140k" >&2; exit 2 ;;
	esac
	echo "== $size: TIME_WAIT $TW, ESTABLISHED $((2 * EST)), CLOSE_WAIT $CW (+ $CW FIN_WAIT2)"
	$NS sh -c "
		set -e
		ip link set lo up
		echo '1024 65535' > /proc/sys/net/ipv4/ip_local_port_range
		echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
		echo 262144 > /proc/sys/net/ipv4/tcp_max_tw_buckets
		t0=\$(date +%s)
		$W/gen $W/ready-$size $TW $EST $CW 200 &
		G=\$!
		while [ ! -f $W/ready-$size ]; do sleep 0.2; kill -0 \$G; done
		echo \"generated in \$((\$(date +%s) - t0)) s\"
		unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
		$PY $W/bench.py $W/tcptune $W/nlcount $REPS
		kill \$G
		wait \$G || true
	"
done
