# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
"""Python's lock-file libraries in the benchmarks' peer protocol (bench/common.hpp).

  python_peer.py cycle zc.lockfile|filelock PATH
      prints "ready"; for each line N on stdin runs N uncontended cycles and prints their seconds.
  python_peer.py contend zc.lockfile LOCKPATH COUNTERPATH CYCLES
      prints "ready", waits for the end of stdin (the start gate), then CYCLES times: takes the
      lock the way zc.lockfile's users must (it cannot wait: retry until LockFile succeeds),
      increments the decimal counter, and releases.
"""
import logging
import os
import sys
import time


def cycle_function(library, path):
    if library == "zc.lockfile":
        import zc.lockfile

        def cycle():
            zc.lockfile.LockFile(path).close()

        return cycle
    if library == "filelock":
        import filelock

        lock = filelock.FileLock(path)

        def cycle():
            lock.acquire()
            lock.release()

        return cycle
    raise SystemExit("unknown library " + library)


def run_cycles(library, path):
    cycle = cycle_function(library, path)
    cycle()
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        start = time.perf_counter()
        for _ in range(n):
            cycle()
        print("%.9f" % (time.perf_counter() - start), flush=True)


def contend(library, lock_path, counter_path, cycles):
    if library != "zc.lockfile":
        raise SystemExit("contend: only zc.lockfile")
    import zc.lockfile

    logging.getLogger("zc.lockfile").disabled = True  # every refused attempt would be logged
    counter = os.open(counter_path, os.O_RDWR)
    print("ready", flush=True)
    sys.stdin.read()  # the gate opens when its write end is closed
    for _ in range(cycles):
        while True:
            try:
                lock = zc.lockfile.LockFile(lock_path)
                break
            except zc.lockfile.LockError:
                pass
        value = int(os.pread(counter, 32, 0) or b"0") + 1
        os.pwrite(counter, b"%d\n" % value, 0)
        lock.close()


if __name__ == "__main__":
    if sys.argv[1] == "cycle":
        run_cycles(sys.argv[2], sys.argv[3])
    else:
        contend(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
