#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The fault sweep's worker: one runs in each sandbox (fault-sweep.sh).

It makes each scenario's starting state once, counts the syscalls of the
scenario's command under strace, then runs its share of the faults: the
k-th call of a syscall fails with an errno (strace -e inject), and after
each the namespace and the journal are checked (see fault-sweep.sh).

Why Python: a fault costs one strace'd tcptune run; in sh, restoring the
state and looking at it took some twenty more processes a fault, three
times the cost of the run. Here the state is kept in memory and restored
and compared in this process, so every occurrence fits in minutes.

Usage: fault-sweep.py every|sample TCPTUNE: every call, or a spread sample
of them. Environment: PROFILES, W (this pass's directory in this shard),
SHARD, NSHARDS; TT_SWEEP_SCENARIOS=GLOB (only those scenarios).
"""
import fnmatch
import hashlib
import os
import re
import stat
import subprocess
import sys
import time

MODE, TCPTUNE = sys.argv[1], sys.argv[2]
PROFILES = os.environ["PROFILES"]
W = os.environ["W"]
SHARD = int(os.environ["SHARD"])
NSHARDS = int(os.environ["NSHARDS"])
FULL = MODE == "every"
ONLY = os.environ.get("TT_SWEEP_SCENARIOS") or "*"

F = "/etc/sysctl.d/90-tcptune.conf"
J = "/var/lib/tcptune/last-apply"
KEYS = ["/proc/sys/net/ipv4/tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_tw_reuse",
        "/proc/sys/net/ipv4/tcp_syncookies"]
TREES = ["/etc/sysctl.d", "/var/lib"]
OUT = os.path.join(W, "f.out")
ERR = os.path.join(W, "f.err")
# the allocator's calls (xmalloc aborts by design), and the exit
SKIP = {"mmap", "munmap", "mprotect", "madvise", "brk", "exit_group"}

ENV = dict(os.environ)
for k in ("TCPTUNE_PROFILE_PATH", "TCPTUNE_TEST_CRASH_AT", "TCPTUNE_TEST_DELAY_MS",
          "TCPTUNE_TEST_LOCK_PAUSE_MS"):
    ENV.pop(k, None)
# LeakSanitizer cannot run under ptrace
ENV["ASAN_OPTIONS"] = (ENV["ASAN_OPTIONS"] + ":" if ENV.get("ASAN_OPTIONS") else "") + "detect_leaks=0"


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(99)


def run(argv, env=ENV):
    """Run argv with stdin from /dev/null and stdout and stderr to files (as
    the counting run had them: a pipe's name changes from run to run):
    (status, stdout, stderr) as text."""
    with open(OUT, "w+b") as o, open(ERR, "w+b") as e:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e, env=env).returncode
        o.seek(0)
        e.seek(0)
        return r, o.read().decode(errors="replace"), e.read().decode(errors="replace")


def tt(*args, env=ENV):
    return run([TCPTUNE, "--profile-dir", PROFILES, *args], env=env)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def jstate():
    j = read(J)
    if j is None:
        return "none"
    return "\n".join(m.decode() for m in re.findall(rb'^ *"state": "([a-z-]*)"', j, re.M))


def files():
    """Every regular file below the trees: path, permission bits, owner, size."""
    out = []
    for top in TREES:
        for d, dirs, names in os.walk(top):
            for n in names:
                p = os.path.join(d, n)
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode):
                    out.append("%s %o %d %d" % (p, stat.S_IMODE(st.st_mode), st.st_uid, st.st_size))
    return sorted(out)


class Look:
    """What a run leaves: live (each key's value and the fragment: what must
    be all old or all new) and full (those, the journal but its pid, and the
    files around them: all a next run starts from)."""

    def __init__(self):
        # one read() per value: /proc/sys answers a read past offset 0 with nothing
        self.live = []
        for k in KEYS:
            fd = os.open(k, os.O_RDONLY)
            try:
                self.live.append("%s:%s" % (k, os.read(fd, 4096).decode().rstrip("\n")))
            finally:
                os.close(fd)
        frag = read(F)
        self.live.append("%s:%r" % (F, frag) if frag else F + ":absent or empty")
        self.live = tuple(self.live)
        j = read(J)
        if j is not None:
            j = re.sub(rb'"pid": [0-9]*', b'"pid"', j)
        self.full = (self.live, j, tuple(files()))

    def describe_full(self):
        return list(self.live) + ["journal: %r" % (self.full[1],)] + list(self.full[2])


class Snap:
    """A scenario's starting state, kept in memory: the trees (every entry
    with its mode, owner and times) and the live values."""

    def __init__(self):
        self.look = Look()
        self.entries = []
        for top in TREES:
            for d, dirs, names in os.walk(top):
                dirs.sort()
                for n in sorted(dirs) + sorted(names):
                    p = os.path.join(d, n)
                    st = os.lstat(p)
                    if stat.S_ISLNK(st.st_mode):
                        data = os.readlink(p)
                    elif stat.S_ISREG(st.st_mode):
                        data = read(p)
                    elif stat.S_ISDIR(st.st_mode):
                        data = None
                    else:
                        die("save: %s is neither a file, a directory nor a symlink" % p)
                    self.entries.append((p, st, data))

    def load(self):
        for top in TREES:
            clear(top)
        for p, st, data in self.entries:
            if stat.S_ISLNK(st.st_mode):
                os.symlink(data, p)
            elif stat.S_ISDIR(st.st_mode):
                os.mkdir(p, 0o700)
            else:
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, data)
                os.close(fd)
            os.lchown(p, st.st_uid, st.st_gid)
        # modes and times last: a directory's times change as its entries are made
        for p, st, data in reversed(self.entries):
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(p, stat.S_IMODE(st.st_mode))
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        for line in self.look.live:
            k, v = line.split(":", 1)
            if k.startswith("/proc/sys/"):
                fd = os.open(k, os.O_WRONLY)
                os.write(fd, (v + "\n").encode())
                os.close(fd)


def clear(top):
    for d, dirs, names in os.walk(top, topdown=False):
        for n in names:
            os.unlink(os.path.join(d, n))
        for n in dirs:
            p = os.path.join(d, n)
            if os.path.islink(p):
                os.unlink(p)
            else:
                os.rmdir(p)


def crash(at, *cmd):
    r, _, _ = tt(*cmd, env=dict(ENV, TCPTUNE_TEST_CRASH_AT=at))
    if r != -9:
        die("setup: %s did not die at %s (a build without --enable-test-hooks?)" % (" ".join(cmd), at))


def ok(*cmd):
    r, o, e = tt(*cmd)
    if r != 0:
        die("setup: tt %s failed: %s%s" % (" ".join(cmd), o, e))


def journal_mode(mode):
    os.chmod(J, mode)


# name, set-up, command, the journal's state after a success, audit's exit after it
SCENARIOS = [
    ("apply-fresh", [], ["apply", "sweep"], "complete", 0),
    ("apply-over-complete", [(ok, "apply", "sweep")], ["apply", "sweepb"], "complete", 0),
    ("apply-after-rollback", [(ok, "apply", "sweep"), (ok, "rollback")], ["apply", "sweep"], "complete", 0),
    ("apply-noop-after-rollback", [(ok, "apply", "sweep"), (ok, "apply", "sweepb"), (ok, "rollback")],
     ["apply", "sweep"], "complete", 0),
    ("recover-then-apply", [(crash, "key:1", "apply", "sweep")], ["apply", "sweep"], "complete", 0),
    ("rollback-complete", [(ok, "apply", "sweep")], ["rollback"], "rolled-back", 1),
    ("rollback-incomplete", [(crash, "key:1", "apply", "sweep")], ["rollback"], "rolled-back", 1),
    ("rollback-rolling-back", [(ok, "apply", "sweep"), (crash, "rollback-key:1", "rollback")],
     ["rollback"], "rolled-back", 1),
    # the way out of any journal: renamed, never read; a journal of 0644 days is made 0600
    ("forget", [(ok, "apply", "sweep"), (journal_mode, 0o644)], ["rollback", "--forget"], "none", 0),
]
# their live values stay as they were: what changes is the journal
JOURNAL_ONLY = ("apply-noop-after-rollback", "forget")


def norm_call(line):
    """A strace line's call and first argument, without what changes from run to run."""
    c = re.sub(r"^[0-9]* *", "", line)
    c = re.sub(r"[,)].*", "", c)
    c = re.sub(r"/proc/[0-9]+/", "/proc/PID/", c)
    c = re.sub(r"socket:\[[0-9]+\]", "socket", c)
    c = re.sub(r"\.[0-9a-f]+>", ".TEMP>", c)
    return "getrandom" if c.startswith("getrandom") else c


def enumerate_faults(name, trace):
    """Every call after main() starts: (scenario, syscall, N, errno, call)."""
    n = {}
    started = False
    out = []
    for line in trace.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        c = re.sub(r"\(.*", "", f[1])
        if re.match(r"^(\+\+\+|---)", c):
            continue
        n[c] = n.get(c, 0) + 1
        # main() starts with realpath(argv[0]); the sanitizers read /proc/self/exe before
        if not started and c == "readlink" and not f[1].startswith('readlink("/proc/'):
            started = True
        if not started or c in SKIP:
            continue
        call = norm_call(line)
        out.append((name, c, n[c], "EIO", call))
        if c in ("write", "pwrite64", "fsync"):
            out.append((name, c, n[c], "ENOSPC", call))
        if (c == "write" and "</proc/sys/" in f[1]) or \
           (c == "openat" and re.search(r'</proc/sys/[^>]*>, "[^"]*", O_WRONLY', line)):
            out.append((name, c, n[c], "EACCES", call))
            out.append((name, c, n[c], "EPERM", call))
    return out


def sample(faults):
    """Every syscall of every scenario with every error, at its first and
    last call and at calls spread between (at most 6 a group)."""
    top = {}
    for s, c, k, e, _ in faults:
        top[(s, c, e)] = max(top.get((s, c, e), 0), k)
    out = []
    for f in faults:
        m = top[(f[0], f[1], f[3])]
        st = (m + 3) // 4
        if f[2] == 1 or f[2] == m or f[2] % st == 0:
            out.append(f)
    return out


def write_faults(path, faults):
    with open(path, "w") as f:
        for x in faults:
            f.write("%s %s %d %s %s\n" % x)


def main():
    fd = os.open("/proc/sys/net/ipv4/tcp_max_tw_buckets", os.O_WRONLY)
    os.write(fd, b"8192\n")
    os.close(fd)
    snaps = {"base": Snap()}
    ends = {}
    faults = []
    for name, setup, cmd, jend, arc in SCENARIOS:
        snaps["base"].load()
        for step in setup:
            step[0](*step[1:])
        snaps[name] = snap = Snap()
        # the counting run: every syscall, with the paths of the descriptors, as a fault run makes them
        trace = os.path.join(W, "count." + name)
        r, _, e = run(["strace", "-f", "-qq", "-y", "-o", trace, TCPTUNE, "--profile-dir", PROFILES, *cmd])
        if r != 0:
            die("counting run of %s failed: %s" % (name, e))
        new = Look()
        if jstate() != jend:
            die("%s: the journal says %s, not %s" % (name, jstate(), jend))
        if (new.live == snap.look.live and name not in JOURNAL_ONLY) or new.full == snap.look.full:
            die("%s changes nothing: it would prove nothing" % name)
        ends[name] = (cmd, jend, arc, new.live, new.full)
        with open(trace) as f:
            faults += enumerate_faults(name, f.read())
    if not faults:
        die("no faults enumerated")
    write_faults(os.path.join(W, "faults.all"), faults)
    print("enumerated %d %s" % (len(faults), hashlib.sha1(
        "".join("%s %s %d %s\n" % f[:4] for f in faults).encode()).hexdigest()))
    if not FULL:
        faults = sample(faults)
    write_faults(os.path.join(W, "faults"), faults)
    print("sweeping %d" % len(faults), flush=True)

    done = set()
    n = bad = reruns = 0
    spent = {"restore": 0.0, "fault": 0.0, "look": 0.0, "again": 0.0}
    clock = time.monotonic()

    def lap(what):
        nonlocal clock
        t = time.monotonic()
        spent[what] += t - clock
        clock = t

    st_path = os.path.join(W, "f.st")
    base = snaps["base"].look.live
    for i, (name, sysc, k, err, want) in enumerate(faults, 1):
        if i % NSHARDS != SHARD or not fnmatch.fnmatchcase(name, ONLY):
            continue
        n += 1
        cmd, jend, arc, new_live, new_full = ends[name]
        snap = snaps[name]
        lap("look")
        snap.load()
        lap("restore")
        rc, out, errout = run(["strace", "-f", "-qq", "-y", "-o", st_path, "--seccomp-bpf",
                               "-e", "trace=" + sysc, "-e", "inject=%s:error=%s:when=%d" % (sysc, err, k),
                               TCPTUNE, "--profile-dir", PROFILES, *cmd])
        lap("fault")
        why = []
        # the k-th call of the syscall failed, and it is the k-th call of the counting run
        with open(st_path) as f:
            lines = f.read().splitlines()
        inj = [(no, l) for no, l in enumerate(lines, 1) if "INJECTED" in l]
        hit = norm_call(inj[0][1]) if len(inj) == 1 and inj[0][0] == k else "none"
        if hit != want:
            why.append("the fault did not hit call %d as counted (%s) but %s" % (k, want, hit))
        now = Look()
        # (apply-noop-after-rollback: before and after differ only in the journal)
        s = "mixed"
        if now.live == new_live:
            s = "after"
        if (rc != 0 or s == "mixed") and now.live == snap.look.live:
            s = "before"
        if s == "mixed" and now.live == base and cmd != ["rollback"]:
            s = "recovered"
        if re.search(r"AddressSanitizer|runtime error:|LeakSanitizer", errout):
            why.append("a sanitizer report")
        if not why and name == "forget":
            why += judge_forget(rc, now, snap, new_full, errout)
        elif not why:
            why += judge(name, rc, s, now, snap, base)
        if not why and rc != 0 and re.search(r"^[^ ]*: applied;|^rolled back ", out, re.M):
            why.append("exit %d, yet it says it succeeded" % rc)
        if not why and rc != 0 and not errout:
            why.append("exit %d without a word" % rc)
        if not why and "nothing was changed" in errout and now.full != snap.look.full:
            why.append("says nothing was changed, but the namespace or the journal changed")
        # one more run of the same command reaches a clean state (run once per distinct state it starts from)
        key = (name, now.full)
        if not why and key not in done:
            lap("look")
            reruns += 1
            why += again(cmd, jend, arc, new_live)
            lap("again")
            if not why:
                done.add(key)
        if why:
            bad += 1
            print("INCONSISTENT: %s: %s call %d (%s) -> %s: exit %d: %s" % (name, sysc, k, want, err, rc, "; ".join(why)))
            for l in errout.splitlines()[:5]:
                print("    " + l)
            sys.stdout.flush()
    lap("look")
    print("shard %d: %d faults, %d consistent" % (SHARD, n, n - bad))
    print("shard %d: %d runs again; seconds: %s" % (SHARD, reruns, ", ".join(
        "%s %.1f" % (k, v) for k, v in spent.items())))


def judge(name, rc, s, now, snap, base):
    """Do the exit status and the state agree?"""
    if rc == 0:
        return [] if s == "after" else ["exit 0, but the namespace is %s the command" % s]
    if rc in (1, 2, 3) and s == "before":
        # nothing changed: then the journal, the way back, is as it was too
        if now.full != snap.look.full:
            was, got = snap.look.describe_full(), now.describe_full()
            d = [("< " + x) for x in was if x not in got] + [("> " + x) for x in got if x not in was]
            return ["exit %d and the values as before, but the journal or its directory changed: %s" %
                    (rc, " ".join(d)[:300])]
        return []
    if rc in (1, 2, 3) and s == "recovered":
        # restored; the journal says so, or still says interrupted and the next run restores again
        if jstate() in ("rolled-back", "incomplete"):
            return []
        return ["exit %d after recovering, but the journal says %s" % (rc, jstate())]
    if rc == 4:
        # an interrupted transaction's restore that failed part way: each value
        # as before or as restored, the journal still interrupted, exit 4 saying
        # so; and something really not restored (a read-back that failed once
        # is no such thing: the value is back)
        j = jstate()
        if (name.startswith("recover-") and j in ("incomplete", "rolling-back")) or \
           (name == "rollback-incomplete" and j in ("incomplete", "rolling-back")) or \
           (name == "rollback-rolling-back" and j == "rolling-back"):
            if any(x != a and x != b for x, a, b in zip(now.live, snap.look.live, base)):
                return ["exit 4, and some value is neither as before nor as restored"]
            if now.live == base:
                return ["exit 4 (not all restored), but every value and the fragment are restored"]
            return []
        return ["exit 4, the namespace mixed and the journal %s" % j]
    return ["exit %d, and the namespace is %s the command" % (rc, s)]


def judge_forget(rc, now, snap, new_full, errout):
    """rollback --forget: the journal set aside, or left as it was; nothing else changes."""
    if now.live != snap.look.live:
        return ["the keys or the fragment changed: %s" % " ".join(now.live)]
    if rc == 0:
        if now.full == new_full:
            return []
        # renamed, then the chmod or the directory's fsync failed: done, with a warning
        aside = read(J + ".forgotten")
        if read(J) is None and aside is not None and \
           re.sub(rb'"pid": [0-9]*', b'"pid"', aside) == snap.look.full[1] and "set aside, but then" in errout:
            return []
        return ["exit 0, but the journal is not set aside as in the counting run"]
    if rc in (1, 2, 3):
        if now.full == snap.look.full:
            return []
        return ["exit %d, but the journal or its directory changed" % rc]
    return ["exit %d" % rc]


def again(cmd, jend, arc, new_live):
    """One more run of the command: a clean state, and audit agrees."""
    r, o, e = tt(*cmd)
    now = Look()
    if r != 0:
        return ["then '%s' exited %d: %s" % (" ".join(cmd), r, (o + e).replace("\n", " "))]
    if now.live != new_live:
        return ["then '%s' left %s" % (" ".join(cmd), " ".join(now.live))]
    if jstate() != jend:
        return ["then '%s' left the journal %s" % (" ".join(cmd), jstate())]
    # after a rollback, audit of the profile rolled back finds it undone (exit 1)
    p = "sweep" if cmd[0] == "rollback" else cmd[1]
    a, o, e = tt("audit", p)
    if a != arc:
        return ["then audit exited %d, not %d: %s" % (a, arc, (o + e).replace("\n", " "))]
    if "did not finish" in o + e:
        return ["then audit says an apply did not finish"]
    return []


if __name__ == "__main__":
    main()
