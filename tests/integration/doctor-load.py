#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Workloads for doctor-scenarios.sh: python3-requests against nginx and tinyproxy on loopback.

doctor-load.py MODE READY SECONDS ARGS...; touches READY once the pile-up is
built (after WARMUP seconds, or at the first EADDRNOTAVAIL), writes counters
to READY.stats on exit, and stops after SECONDS.
  storm URL RATE        new connection per request (requests.get), RATE/s
  leak URL PROXY RATE   a new Session per request, kept and never closed
  session URL PERIOD    one Session reused every PERIOD seconds (healthy)
  flood HOST PORT N     N connects that wait in an accept queue
"""
import errno
import os
import resource
import signal
import socket
import sys
import time

mode, ready, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
args = sys.argv[4:]
end = time.monotonic() + seconds
stats = {"ok": 0, "failed": 0, "eaddrnotavail": 0}


def mark():
    if not os.path.exists(ready):
        open(ready, "w").close()


def save():
    with open(ready + ".stats", "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in sorted(stats.items())) + "\n")


def paced(rate, warmup, fn):
    start = time.monotonic()
    n = 0
    while time.monotonic() < end:
        n += 1
        fn()
        if time.monotonic() - start >= warmup:
            mark()
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def failed(e):
    stats["failed"] += 1
    cause = e
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.EADDRNOTAVAIL:
            break
        cause = cause.__cause__ or cause.__context__
    # urllib3 keeps the errno in the message only
    if cause is not None or "Cannot assign requested address" in str(e):
        stats["eaddrnotavail"] += 1
        mark()              # the range is exhausted: the pile-up is there


# stopped early by the test: keep the counters
signal.signal(signal.SIGTERM, lambda *a: (save(), os._exit(0)))
signal.signal(signal.SIGINT, lambda *a: (save(), os._exit(0)))

if mode in ("storm", "leak", "session"):
    import requests

if mode == "storm":
    url, rate = args[0], float(args[1])

    def one():
        try:
            requests.get(url, timeout=2).content
            stats["ok"] += 1
        except requests.RequestException as e:
            failed(e)
    paced(rate, float(os.environ.get("WARMUP", "6")), one)
elif mode == "leak":
    url, proxy, rate = args[0], args[1], float(args[2])
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    kept = []

    def one():
        s = requests.Session()
        try:
            s.get(url, proxies={"http": proxy}, timeout=2).content
            stats["ok"] += 1
        except requests.RequestException as e:
            failed(e)
        kept.append(s)      # the leak: the pooled connection is never closed
    paced(rate, float(os.environ.get("WARMUP", "3")), one)
elif mode == "session":
    url, period = args[0], float(args[1])
    s = requests.Session()

    def one():
        try:
            s.get(url, timeout=2).content
            stats["ok"] += 1
        except requests.RequestException as e:
            failed(e)
    paced(1 / period, float(os.environ.get("WARMUP", "0")), one)
elif mode == "flood":
    host, port, n = args[0], int(args[1]), int(args[2])
    socks = []
    for _ in range(n):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect((host, port))
        except BlockingIOError:
            pass
        socks.append(c)
    time.sleep(1)
    mark()
    while time.monotonic() < end:
        time.sleep(0.2)
save()
