#!/bin/sh
# mkfds.sh ROOT: (re)make the fd links of the fixture's process 4242 below ROOT.
# They are in git too, but dist tarballs dereference symlinks and drop these
# dangling ones: tests that need the owner call this on their copy.
set -e
d=$1/proc/4242/fd
mkdir -p "$d"
ln -sf /dev/null "$d/0"
ln -sf 'pipe:[1234]' "$d/1"
i=3
for ino in 30965 30966 30967 30971 30975 30969 30973 30977; do
	ln -sf "socket:[$ino]" "$d/$i"
	i=$((i + 1))
done
