#!/usr/bin/env python3
# scenario.py: known TCP sockets on loopback for the sockets/doctor tests (run in a private netns).
#
# usage: scenario.py READYFILE COMM CLOSE_WAIT TIME_WAIT ESTABLISHED_PAIRS [SECONDS]
# Holds: a listener on 127.0.0.1:7001 and [::1]:7001; CLOSE_WAIT client
# sockets (the server side closed first; half of them over IPv6); TIME_WAIT
# on the client side (it closed first); ESTABLISHED pairs. Sets its comm to
# COMM (may hold control characters, e.g. \x1b) and writes its pid to
# READYFILE when everything is in place, then sleeps (bounded).
import ctypes, os, socket, sys, time

ready, comm = sys.argv[1], sys.argv[2].encode().decode('unicode_escape').encode('latin-1')
n_cw, n_tw, n_est = (int(x) for x in sys.argv[3:6])
limit = int(sys.argv[6]) if len(sys.argv) > 6 else 120

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(15, ctypes.c_char_p(comm[:15]), 0, 0, 0)   # PR_SET_NAME

def listener(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 7001))
    s.listen(1024)
    return s

l4 = listener(socket.AF_INET, '127.0.0.1')
l6 = listener(socket.AF_INET6, '::1')
keep = []

def pair(fam):
    l, addr = (l4, '127.0.0.1') if fam == socket.AF_INET else (l6, '::1')
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((addr, 7001))
    s, _ = l.accept()
    return c, s

for i in range(n_cw):
    c, s = pair(socket.AF_INET6 if i % 2 else socket.AF_INET)
    s.close()                   # the server closes; the client never does
    keep.append(c)
for i in range(n_tw):
    c, s = pair(socket.AF_INET6 if i % 3 == 2 else socket.AF_INET)
    c.close()                   # the client closes first: TIME_WAIT is its
    s.recv(1)
    s.close()
for i in range(n_est):
    keep.extend(pair(socket.AF_INET))

time.sleep(0.3)                 # let the FINs and ACKs land
with open(ready + '.tmp', 'w') as f:
    f.write('%d\n' % os.getpid())
os.rename(ready + '.tmp', ready)
time.sleep(limit)
