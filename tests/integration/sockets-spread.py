#!/usr/bin/env python3
# sockets-spread.py: N loopback connections, each client toward its own address (127.1.0.1 up).
#
# usage: sockets-spread.py READYFILE N [SECONDS]
# Run in a private netns. A listener on 0.0.0.0:7100 accepts every one:
# N remotes on the client side, one inbound port on the server side, 2N
# ESTABLISHED sockets, all held by this process (at most 9,000 pairs: the
# fds). Writes its pid to READYFILE, then sleeps (bounded).
import os, resource, socket, sys, time

ready, n = sys.argv[1], int(sys.argv[2])
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 60
if not 0 < n <= 9000 or not 0 < limit <= 300:
    sys.exit("at most 9000 pairs and 300 seconds")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < 2 * n + 64:
    sys.exit("RLIMIT_NOFILE %d is too small for %d pairs" % (hard, n))
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7100))
l.listen(4096)
keep = []
for k in range(n):
    addr = "127.1.%d.%d" % (k // 254, k % 254 + 1)
    c = socket.create_connection((addr, 7100))
    s, _ = l.accept()
    keep += [c, s]
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(ready + ".tmp", ready)
time.sleep(limit)
