#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# bench.py: time tcptune against a raw netlink count, ss and netstat on the sockets gen made.
# Run by run.sh inside the private namespace; not a CI test.
import json, os, re, statistics, subprocess, sys, time

tcptune, nlcount, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

def run(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout
    return time.perf_counter() - t, out.decode(errors="replace")

def rss_kib(cmd):
    """Peak RSS of the first command of a pipeline, by /usr/bin/time."""
    if not TIME:
        return None
    first, _, rest = cmd.partition("|")
    r = subprocess.run("%s -f '%%M' %s >/dev/null" % (TIME, first), shell=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    m = re.findall(rb"^(\d+)$", r.stderr, re.M)
    return int(m[-1]) if m else None

AWK = "awk 'NR>1{n[$1]++} END{for (s in n) print s, n[s]}'"
NAWK = "awk '$1 ~ /^tcp/{n[$6]++} END{for (s in n) print s, n[s]}'"
cases = [
    ("tcptune sockets", tcptune + " sockets -q"),
    ("tcptune sockets --exact", tcptune + " sockets -q --exact"),
    ("raw netlink count (v4+v6 dumps)", nlcount),
    ("ss -tan | awk", "ss -tan | " + AWK),
    ("netstat -nat | awk", "netstat -nat | " + NAWK),
    ("raw netlink count close-wait", nlcount + " close-wait"),
    ("ss -tanp state close-wait", "ss -tanp state close-wait"),
    ("tcptune sockets --state close-wait --by owner", tcptune + " sockets --state close-wait --by owner"),
    ("tcptune sockets --by remote", tcptune + " sockets --by remote"),
    ("tcptune sockets --by owner", tcptune + " sockets --by owner"),
    ("tcptune sockets --by owner,remote", tcptune + " sockets --by owner,remote"),
    ("tcptune -o json sockets --by remote", tcptune + " -o json sockets --by remote"),
    ("ss -tan >/dev/null", "ss -tan"),
    ("netstat -tan >/dev/null", "netstat -tan"),
]
# ss -p reads every fd of every process: minutes at 200k sockets. QUICK=1 leaves it out.
if os.environ.get("QUICK"):
    cases = [c for c in cases if "close-wait" not in c[0]]
res, outs, rss = {}, {}, {}
for name, cmd in cases:
    try:
        run(cmd)                               # warm the caches
    except subprocess.CalledProcessError:
        res[name], outs[name] = None, ""       # an older tcptune without the option
        continue
    ts = []
    for _ in range(reps):
        t, out = run(cmd)
        ts.append(t)
    res[name] = statistics.median(ts)
    outs[name] = out
    rss[name] = rss_kib(cmd)                   # now, while the sockets are those timed
print("median of %d runs, %s" % (reps, open("/proc/net/sockstat").read().split("\n")[1]))
print(outs["raw netlink count (v4+v6 dumps)"].strip())
print(" ".join(outs["tcptune sockets"].split()))
for name, cmd in cases:
    if res[name] is None:
        print("%-48s      n/a" % name)
        continue
    r = rss[name]
    print("%-48s %8.1f ms   peak RSS %s" % (name, res[name] * 1000, "%d KiB" % r if r else "?"))
raw = res["raw netlink count (v4+v6 dumps)"]
t = res["tcptune sockets"]
print("census / raw netlink count        %.2fx (target <= 1.3)" % (t / raw))
print("ss -tan|awk / census              %.2fx (target >= 5)" % (res["ss -tan | awk"] / t))
print("netstat -nat|awk / census         %.2fx" % (res["netstat -nat | awk"] / t))
if "ss -tanp state close-wait" in res:
    print("ss -tanp close-wait / tcptune     %.2fx (target >= 3)" %
          (res["ss -tanp state close-wait"] / res["tcptune sockets --state close-wait --by owner"]))
# --by remote against ss and netstat printing the same sockets
rem = res["tcptune sockets --by remote"]
print("--by remote / ss -tan             %.2fx (target <= 2)" % (rem / res["ss -tan >/dev/null"]))
print("--by remote / netstat -tan        %.2fx" % (rem / res["netstat -tan >/dev/null"]))
print("--by remote / raw netlink count   %.2fx" % (rem / raw))
_, j = run(tcptune + " -o json sockets --by remote")
doc = json.loads(j)
groups = len(doc["by_remote"])
print("remotes: %d groups in the JSON, total %d; peak RSS %s KiB at --by remote, %s KiB for its JSON" %
      (groups, doc["total"], rss["tcptune sockets --by remote"], rss["tcptune -o json sockets --by remote"]))
# the same counts as ss, state by state
_, sso = run("ss -tan | " + AWK)
ss_n = {}
for line in sso.split("\n"):
    if line.strip():
        st, n = line.split()
        ss_n[st] = int(n)
SS = {"ESTAB": "ESTABLISHED", "TIME-WAIT": "TIME_WAIT", "CLOSE-WAIT": "CLOSE_WAIT", "LISTEN": "LISTEN",
      "FIN-WAIT-2": "FIN_WAIT2", "FIN-WAIT-1": "FIN_WAIT1", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
      "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING", "CLOSED": "CLOSE"}
ss_st = {SS.get(k, k): v for k, v in ss_n.items()}
tt_st = {k: v for k, v in doc["states"].items() if v}
print("states: ss %s, tcptune %s: %s" % (sorted(ss_st.items()), sorted(tt_st.items()),
                                         "same" if ss_st == tt_st else "DIFFERENT (TIME_WAIT expires between runs)"))
# the same PIDs
if "ss -tanp state close-wait" not in res:
    sys.exit(0)
ss_p = set(int(p) for p in re.findall(r"pid=(\d+)", outs["ss -tanp state close-wait"]))
_, j = run(tcptune + " -o json sockets --state close-wait --by owner")
tt_p = set(o["pid"] for o in json.loads(j)["by_owner"])
print("close-wait owners: ss %s, tcptune %s: %s" % (sorted(ss_p), sorted(tt_p), "same" if ss_p == tt_p else "DIFFERENT"))
