# SPDX-License-Identifier: ISC
# bootview-gen.py: write sysctl.d trees for bootview-differential.sh.
#
# bootview-gen.py OUT SEED N writes OUT/NAME/root (a tree below a --root),
# OUT/NAME/keys (the keys to compare, one a line), OUT/NAME/paths (the
# same as paths below /proc/sys) and OUT/NAME/proc (a link to a fake
# /proc/sys with a file holding "-" for each key, to copy into a tmpfs;
# shared by the trees with the same keys) for a set of
# hand-written trees, one per known tricky case, and N random trees from a
# fixed SEED. Trees are made here, not committed under tests/data, because
# they hold /dev/null links, CR and NUL bytes that make dist and git mangle.
# Only net.ipv4 keys of the network namespace are used, in case a tool
# ever reached the real /proc/sys of the sandbox.
import os
import random
import sys

out, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

DIRS = ["etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d"]

HAND_KEYS = [
    "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.eth0.accept_redirects",
    "net.ipv4.conf.eth0.forwarding", "net.ipv4.conf.eth1.rp_filter",
    "net.ipv4.conf.eth1.accept_redirects", "net.ipv4.conf.eth1.forwarding",
    "net.ipv4.conf.lo.rp_filter", "net.ipv4.conf.lo.accept_redirects",
    "net.ipv4.conf.lo.forwarding", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_sack",
    "net.ipv4.tcp_ecn", "net.ipv4.tcp_fastopen", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.ip_local_port_range",
]

# name -> {path: text, or ("link", target)}; text is written byte for byte.
HAND = {
    # The same file name in /etc, /run, /usr/local/lib, /usr/lib: the first
    # directory wins; /dev/null links and empty files mask; dot files,
    # non-.conf files and directories are not read. Debian's
    # 99-sysctl.conf link makes systemd read /etc/sysctl.conf too.
    "masking": {
        "etc/sysctl.conf": "net.ipv4.tcp_keepalive_time = 99\n",
        "etc/sysctl.d/.hidden.conf": "net.ipv4.tcp_keepalive_time = 44\n",
        "etc/sysctl.d/20-b.conf": "net.ipv4.tcp_fin_timeout = 2\n",
        "etc/sysctl.d/90-z.conf": ("link", "/dev/null"),
        "etc/sysctl.d/51-empty.conf": "",
        "etc/sysctl.d/55-dir.conf/": None,
        "etc/sysctl.d/99-sysctl.conf": ("link", "../sysctl.conf"),
        "run/sysctl.d/15-c.conf": "net.ipv4.tcp_fin_timeout = 3\n",
        "run/sysctl.d/20-b.conf": "net.ipv4.tcp_fin_timeout = 33\n",
        "usr/lib/sysctl.d/10-a.conf": "net.ipv4.tcp_fin_timeout = 1\nnet.ipv4.tcp_sack = 1\n",
        "usr/lib/sysctl.d/15-c.conf": "net.ipv4.tcp_ecn = 7\n",
        "usr/lib/sysctl.d/20-b.conf": "net.ipv4.tcp_ecn = 0\n",
        "usr/lib/sysctl.d/51-empty.conf": "net.ipv4.tcp_syncookies = 7\n",
        "usr/lib/sysctl.d/90-z.conf": "net.ipv4.tcp_ecn = 1\n",
        "usr/lib/sysctl.d/notes.txt": "net.ipv4.tcp_ecn = 2\n",
        "usr/local/lib/sysctl.d/20-c.conf": "net.ipv4.tcp_sack = 0\n",
        "usr/local/lib/sysctl.d/10-a.conf": "net.ipv4.tcp_keepalive_intvl = 5\n",
    },
    # /etc/sysctl.conf without the link: procps reads it last, systemd not.
    "sysctl-conf-only": {
        "etc/sysctl.conf": "net.ipv4.tcp_fin_timeout = 11\nnet.ipv4.conf.*.rp_filter = 2\n",
        "etc/sysctl.d/50-a.conf": "net.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_sack = 0\n",
    },
    # Debian's link, then a file sorting after it: procps reads
    # /etc/sysctl.conf twice, through the link and again at the end.
    "debian-link": {
        "etc/sysctl.conf": "net.ipv4.tcp_fin_timeout = 21\nnet.ipv4.tcp_ecn = 2\n",
        "etc/sysctl.d/99-sysctl.conf": ("link", "../sysctl.conf"),
        "etc/sysctl.d/99-zz.conf": "net.ipv4.tcp_fin_timeout = 22\n",
        "usr/lib/sysctl.d/99-sysctl.conf": "net.ipv4.tcp_ecn = 1\n",
    },
    # The "-" prefix: failure is ignored, the value still set.
    "dash": {
        "etc/sysctl.d/10-a.conf": "-net.ipv4.tcp_fin_timeout = 12\n- net.ipv4.tcp_sack = 1\n"
                                  "-\tnet.ipv4.tcp_ecn = 2\n-net.ipv4.tcp_nonexistent = 3\n"
                                  "-net.ipv4.conf.*.rp_filter = 1\n",
    },
    # Globs against exact keys, later and earlier, in several files.
    "globs": {
        "etc/sysctl.d/20-a.conf": "  net.ipv4.conf.*.rp_filter   =   2  \nnet.ipv4.conf.*.accept_redirects = 6\n"
                                  "-net.ipv4.conf.l*\nnet/ipv4/conf/eth1/rp_filter = 8\n",
        "etc/sysctl.d/30-b.conf": "net.ipv4.conf.lo.forwarding = 1\n-net.ipv4.conf.lo.forwarding\n"
                                  "net.ipv4.conf.*.forwarding = 0\n",
        "usr/lib/sysctl.d/10-z.conf": "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.e*.rp_filter = 3\n"
                                      "net.ipv4.conf.*.accept_redirects = 4\nnet.ipv4.conf.e*.accept_redirects = 5\n"
                                      "net.ipv4.tcp_syncookies = 1\nnet.ipv4.tcp_keepalive_* = 9\n"
                                      "net.ipv4.tcp_keepalive_time = 10\n",
    },
    # "-key" exclusions: exact, slashed, glob-shaped.
    "exclusions": {
        "etc/sysctl.d/20-a.conf": "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.*.accept_redirects = 3\n"
                                  "-net.ipv4.conf.lo.*\n-net/ipv4/conf/eth0/rp_filter\n"
                                  "-net.ipv4.conf.*.accept_redirects\nnet.ipv4.tcp_*_intvl = 4\n"
                                  "-net.ipv4.tcp_keepalive_intvl\n",
    },
    # CRLF, a bare CR and NUL inside lines.
    "line-ends": {
        "etc/sysctl.d/10-crlf.conf": "net.ipv4.tcp_sack = 1\r\nnet.ipv4.tcp_ecn = 2\r\n",
        "etc/sysctl.d/20-cr.conf": "net.ipv4.tcp_fastopen = 3\rnet.ipv4.conf.lo.rp_filter = 2\n",
        "etc/sysctl.d/30-nul.conf": "net.ipv4.conf.all.rp_filter = 1\0net.ipv4.conf.eth0.rp_filter = 2\n",
        "etc/sysctl.d/40-mix.conf": "net.ipv4.tcp_fin_timeout = 4\r\r\nnet.ipv4.tcp_keepalive_time = 5\0\n",
    },
    # Comments, junk, odd case, an empty value, no final newline.
    "garbage": {
        "etc/sysctl.d/20-a.conf": "# comment\n; another = comment\n   # indented = comment\ngarbage line here\n\n\t\n"
                                  "Net.ipv4.tcp_fin_timeout = 5\n- net.ipv4.tcp_syncookies = 1\n!net.ipv4.tcp_sack = 0\n"
                                  "net.ipv4.tcp_ecn = 1 # not a comment\n = 3\nnet.ipv4.tcp_fin_timeout=\nx",
    },
    # Multi-field values, slashes, a leading slash, doubled dots.
    "fields": {
        "etc/sysctl.d/10-a.conf": "net.ipv4.tcp_rmem = 4096\t87380   6291456\n-net.ipv4.tcp_wmem = 4096 16384 4194304\n"
                                  "net.ipv4.tcp_rmem = 4096 131072 6291456\n",
        "etc/sysctl.d/20-b.conf": "net.ipv4.tcp_wmem = 4096 16384 4194304\nnet.ipv4.tcp_keepalive_time=  1200 \n"
                                  "net/ipv4/tcp_sack = 0\n/net/ipv4/tcp_ecn = 1\nnet.ipv4..tcp_fin_timeout. = 7\n"
                                  "net.ipv4.ip_local_port_range = 32768\t\t60999\n",
        "etc/sysctl.d/30-ws.conf": "net.ipv4.tcp_sack = 1  2\nnet.ipv4.tcp_ecn = 1\t\t2  3\n",
    },
    # Empty path components and trailing separators, which the two
    # tools treat differently.
    "odd-spelling": {
        "etc/sysctl.d/10-a.conf": "net.ipv4.tcp_sack = 1\nnet..ipv4.tcp_s*ck = 7\n-net.ipv4.tcp_ecn\n"
                                  ".net.ipv4.tcp_e?n = 4\nnet..ipv4.conf.eth0.rp_filter = 3\n"
                                  "net.ipv4.conf.*.rp_filter = 9\nnet.ipv4.tcp_fastopen = 1\n"
                                  "net.ipv4.tcp_f*open. = 5\nnet.ipv4.conf.l*.rp_filter. = 6\n",
        "etc/sysctl.d/20-b.conf": "net.ipv4.tcp_s?ck = 9\nnet.ipv4..tcp_sack = 3\n"
                                  "net.ipv4.conf.*.rp_filter/ = 6\nnet.ipv4.conf.eth0.rp_filter = 1\n"
                                  "net.ipv4.tcp_keepalive_t*. = 5\n",
    },
}

# Run against the real /proc/sys of a fresh network namespace instead of a
# fake one, to show that globs expand over the kernel's own directories
# and the values go in as the fake tree says: valid values only, keys a
# new netns has, values other than the defaults. Both tools write in a
# new netns of their own; where tcptune predicts no write, the value of
# yet another new netns is expected.
LIVE_KEYS = ["net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
             "net.ipv4.conf.lo.rp_filter", "net.ipv4.conf.all.accept_redirects",
             "net.ipv4.conf.lo.accept_redirects", "net.ipv4.tcp_keepalive_time",
             "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_fin_timeout",
             "net.ipv4.ip_local_port_range", "net.ipv4.tcp_sack"]
LIVE = {
    "etc/sysctl.conf": "net.ipv4.tcp_keepalive_intvl = 44\n",
    "etc/sysctl.d/10-a.conf": "net.ipv4.tcp_keepalive_time = 333\n-net.ipv4.conf.lo.rp_filter\n"
                              "net.ipv4.conf.*.accept_redirects = 0\n",
    "etc/sysctl.d/20-b.conf": ("link", "/dev/null"),
    "run/sysctl.d/30-c.conf": "net.ipv4.ip_local_port_range = 20000\t30000\r\n",
    "usr/lib/sysctl.d/10-a.conf": "net.ipv4.tcp_keepalive_time = 111\nnet.ipv4.tcp_fin_timeout = 22\n",
    # Not conf.default.rp_filter: the kernel copies a write there to every
    # interface not written yet, lo included, which is no tool's doing.
    "usr/lib/sysctl.d/15-g.conf": "net.ipv4.conf.[al]*.rp_filter = 2\n-net.ipv4.tcp_sack = 0\n",
    "usr/lib/sysctl.d/20-b.conf": "net.ipv4.tcp_fin_timeout = 23\n",
}

RKEYS = ["net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
         "net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.lo.rp_filter",
         "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
         "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range"]
RPATS = ["net.ipv4.conf.*.rp_filter", "net.ipv4.conf.e*.rp_filter",
         "net.ipv4.conf.[al]*.rp_filter", "net.ipv4.tcp_keepalive_?ntvl",
         "net.ipv4.tcp_keepalive_*", "net.ipv4.tcp_*", "net.ipv4.ip_local_port_rang?"]
RVALS = ["0", "1", "2", "1  2", "3", "32768\t60999"]
NAMES = ["10-a.conf", "20-b.conf", "50-x.conf", "90-z.conf", ".h.conf"]


def write(root, rel, what):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if what is None:
        os.makedirs(path, exist_ok=True)
    elif isinstance(what, tuple):
        os.symlink(what[1], path)
    else:
        with open(path, "wb") as f:
            f.write(what.encode())


def rline(r):
    c = r.random()
    k = r.choice(RKEYS + RPATS)
    if r.random() < 0.2:
        k = k.replace(".", "/")
    ws = lambda: r.choice(["", " ", "  ", "\t"])
    if c < 0.6:
        dash = r.choice(["-", "- ", "-\t"]) if r.random() < 0.25 else ""
        if r.random() < 0.05:
            k = k + "."
        if r.random() < 0.05:
            k = "." + k
        return f"{ws()}{dash}{k}{ws()}={ws()}{r.choice(RVALS)}{ws()}"
    if c < 0.8:
        return f"-{r.choice(['', ' '])}{k}"
    if c < 0.9:
        return r.choice(["# c", "; c", "", "junk"])
    return f"{k} = {r.choice(RVALS)}"


def rtree(r, root):
    for d in DIRS:
        os.makedirs(f"{root}/{d}")
        for name in r.sample(NAMES, r.randint(0, 3)):
            c = r.random()
            if c < 0.1:
                write(root, f"{d}/{name}", ("link", "/dev/null"))
            elif c < 0.15:
                write(root, f"{d}/{name}", "")
            else:
                eol = r.choice(["\n"] * 6 + ["\r\n", "\r", "\0"])
                write(root, f"{d}/{name}",
                      eol.join(rline(r) for _ in range(r.randint(1, 6))) + "\n")
    if r.random() < 0.7:
        write(root, "etc/sysctl.conf", "\n".join(rline(r) for _ in range(r.randint(1, 4))) + "\n")
        if r.random() < 0.5 and not os.path.lexists(f"{root}/etc/sysctl.d/99-sysctl.conf"):
            write(root, "etc/sysctl.d/99-sysctl.conf", ("link", "../sysctl.conf"))


SKELS = {}


def tree(name, keys):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "root"))
    with open(os.path.join(d, "keys"), "w") as f:
        f.write("\n".join(keys) + "\n")
    paths = [k.replace(".", "/") for k in keys]
    with open(os.path.join(d, "paths"), "w") as f:
        f.write("\n".join(paths) + "\n")
    skel = SKELS.setdefault(tuple(keys), os.path.join(out, ".proc-%d" % len(SKELS)))
    if not os.path.exists(skel):
        for p in paths:
            write(skel, p, "-\n")
    os.symlink(os.path.relpath(skel, d), os.path.join(d, "proc"))
    return os.path.join(d, "root")


for name, files in list(HAND.items()) + [("live", LIVE)]:
    root = tree(name, LIVE_KEYS if name == "live" else HAND_KEYS)
    for d in DIRS:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for rel, what in files.items():
        write(root, rel.rstrip("/"), what)
for i in range(count):
    r = random.Random(seed + i)
    rtree(r, tree(f"random-{seed + i}", RKEYS))
