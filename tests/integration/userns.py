#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# userns.py BASE COUNT CMD...: run CMD as root of new user, pid, network and mount namespaces whose uids and gids 0..COUNT-1 are BASE..BASE+COUNT-1 outside.
#
# As root, the map is written directly (unshare --map-users would want
# /etc/subuid). A full range lets sshd's privilege separation switch users,
# yet nobody inside has any privilege outside: uid 0 inside is BASE outside.
# CMD runs as PID 1 of its pid namespace, so every daemon it starts dies with it.
import ctypes
import os
import sys

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x20000000, 0x10000000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
libc = ctypes.CDLL(None, use_errno=True)


def check(r, what):
    if r != 0:
        sys.exit('userns.py: %s: %s' % (what, os.strerror(ctypes.get_errno())))


def main():
    base, count, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    go_r, go_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        os.close(ready_r)
        check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID), 'unshare')
        os.write(ready_w, b'1')
        os.close(ready_w)
        if os.read(go_r, 1) != b'1':
            os._exit(99)
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        check(libc.mount(b'none', b'/', None, MS_REC | MS_PRIVATE, None), 'mount --make-rprivate /')
        init = os.fork()
        if init == 0:
            check(libc.mount(b'proc', b'/proc', b'proc', 0, None), 'mount /proc')
            os.execvp(cmd[0], cmd)
        _, st = os.waitpid(init, 0)
        os._exit(os.waitstatus_to_exitcode(st) & 0xff)
    os.close(go_r)
    os.close(ready_w)
    if os.read(ready_r, 1) != b'1':
        os.waitpid(pid, 0)
        sys.exit(99)
    for f in ('uid_map', 'gid_map'):
        with open('/proc/%d/%s' % (pid, f), 'w') as m:
            m.write('0 %d %d\n' % (base, count))
    os.write(go_w, b'1')
    os.close(go_w)
    _, st = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(st) & 0xff)


if __name__ == '__main__':
    main()
