#!/bin/sh
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# The NFS emulation stage's launcher (test/Jamfile, <testing.launcher>): runs a test program, and
# every process it starts (our helpers, Python's zc.lockfile, flock(1), zc-lockfile), under
# test/helper/nfs_shim.c, which it compiles first (once per version of the source, under $TMPDIR).
#   launch.sh MODE PROGRAM ARGS...
# MODE:
#   nfs        flock is emulated as on an NFS client (an OFD lock); the file system reads "nfs"
#              with local_lock=none: the families interact, and the library must detect it.
#   nfs-flock  the file system reads "nfs" with local_lock=flock: flock stays local (real flock),
#              the families are separate, and the library must see that too.
#   9p         9p2000.L as QEMU serves it: the mount table says "9p", fstatfs gives the host's
#              type (here the real one), flock is emulated as a lock of the server's (an OFD
#              lock): the families interact, and the library must tell it from the mount table.
#   9p-legacy  legacy 9P2000 (",noextend"): flock is local, the families are separate.
#   interact   flock emulated as on NFS, the file system's real type: for the library built with
#              ZC_LOCKFILE_LOCK_FAMILIES_INTERACT=1 (the macOS/BSD path), and for the control run.
set -eu
mode=$1
shift
source=$(dirname "$(readlink -f "$0")")/../helper/nfs_shim.c
shim=${TMPDIR:-/tmp}/zc_nfs_shim.$(id -u).$(cksum < "$source" | cut -d' ' -f1).so
if [ ! -e "$shim" ]; then
    cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$shim.$$" "$source" -ldl
    mv -f "$shim.$$" "$shim"
fi
case $mode in
    nfs) export ZC_NFS_SHIM_FLOCK=ofd ZC_NFS_SHIM_FSTYPE=nfs ZC_NFS_SHIM_LOCAL_LOCK=none ;;
    nfs-flock) export ZC_NFS_SHIM_FSTYPE=nfs ZC_NFS_SHIM_LOCAL_LOCK=flock ;;
    9p) export ZC_NFS_SHIM_FLOCK=ofd ZC_NFS_SHIM_9P=L ;;
    9p-legacy) export ZC_NFS_SHIM_9P=legacy ;;
    interact) export ZC_NFS_SHIM_FLOCK=ofd ;;
    *) echo "launch.sh: unknown mode $mode" >&2; exit 2 ;;
esac
LD_PRELOAD=$shim${LD_PRELOAD:+:$LD_PRELOAD}
export LD_PRELOAD
exec "$@"
