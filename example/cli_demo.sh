#!/bin/sh
# The main job with the zc-lockfile command: two processes contend for one lock file, the loser's
# error record, status, the holder killed with SIGKILL (its command dies with it), stale
# detection, and the file left behind.
#
#   cli_demo.sh ZC_LOCKFILE LOCK_PATH
set -eu
z=$1
lock=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfifo "$work/ready"
rm -f "$lock"

echo "1. a holder: zc-lockfile run $lock -- (a command that runs a while)"
"$z" run "$lock" -- sh -c 'echo "   holder: the command runs with the lock held"; echo $$ > "$0"; exec sleep 600' "$work/ready" &
holder=$!
read command < "$work/ready"   # the holder's command is running: the lock is held
echo "   the lock file holds: \"$(cat "$lock")\" (the pid of zc-lockfile run $holder)"

echo "2. a second process tries the same lock: it gets the error record and exit status 75"
status=0
"$z" run "$lock" -- echo "never printed" || status=$?
echo "   exit status $status"

echo "3. zc-lockfile status $lock (never takes the lock)"
"$z" status "$lock" | sed 's/^/   /' || true

echo "4. the holder is killed with SIGKILL: its command dies with it, the record survives"
kill -KILL "$holder"
wait "$holder" 2>/dev/null || true
gone() { [ ! -e "/proc/$command" ] || grep -q ') Z' "/proc/$command/stat"; }
n=0
while ! gone && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
if gone; then echo "   its command (pid $command) is gone too"; else echo "   its command (pid $command) still runs"; exit 1; fi
"$z" status --json "$lock" | sed 's/^/   /'

echo "5. the next holder gets the lock at once and reports the stale record"
"$z" run "$lock" -- sh -c 'echo "   new holder: running, the file holds \"$(cat "$0")\""' "$lock"

echo "6. released: the record is blanked and the file is left behind"
echo "   the lock file holds: \"$(cat "$lock")\" ($(wc -c < "$lock") bytes)"
"$z" status "$lock" | sed 's/^/   /'
