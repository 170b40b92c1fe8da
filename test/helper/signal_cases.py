# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# How a wrapper passes signals and statuses through to the command it runs, tried as a user
# would: test/signals_test.cpp runs it against zc-lockfile, and doc/cli.adoc's table was made with
# it against flock(1) and timeout(1):
#
#   python3 signal_cases.py CASE WRAPPER [ARG...]
#
# WRAPPER ARG... is the wrapper's command line up to its COMMAND (for example
# `zc-lockfile run LOCK --`, `flock LOCK`, `timeout 600`); the case appends the COMMAND. It prints
# one line, "key=value ...", and exits 0; the caller judges the values. Every step waits for a
# handshake (a line from the command, a stopped state, an exit), never for a time; a step that
# waits more than 20 s fails the case.
#
#   sigchld-ignored  the wrapper's parent ignores SIGCHLD (inherited across exec); the command is
#                    `sh -c 'exit 3'`. status: the wrapper's exit status.
#   nohup-hangup     `nohup WRAPPER COMMAND` in a session of its own on a pseudo-terminal, which
#                    then hangs up (its master side is closed). survived: whether the command
#                    lived on; status: the wrapper's exit status.
#   hangup           the same without nohup: the wrapper leads the session, and the kernel sends
#                    the hangup's SIGHUP to it alone.
#   ctrl-c           the wrapper, in the foreground of a pseudo-terminal, is stopped; Ctrl-C is
#                    typed (the terminal signals the foreground process group); once the command
#                    has counted its SIGINT, the wrapper is continued and sent SIGTERM, which
#                    shows when it has handled the SIGINT it had pending. ints: the SIGINTs the
#                    command received; codes: their si_code values; status: the wrapper's.
#   group-int        as ctrl-c, but SIGINT comes from kill(-PGID) by another process, under
#                    setsid(1), with no terminal.
#   ctrl-c-script    `bash -c 'WRAPPER COMMAND; echo step2'` in the foreground of a
#                    pseudo-terminal; Ctrl-C is typed while COMMAND (`sleep`) runs. step2: whether
#                    the script went on (bash stops it only when its child died of SIGINT);
#                    status: bash's exit status.
#   blocked-pending  the wrapper's parent blocks SIGTERM and has one pending when it starts the
#                    wrapper; the command is `echo ran`. ran: whether it ran; status: the wrapper's.
#   usr1             the wrapper is sent SIGUSR1 while the command waits for one. got: whether the
#                    command received it; status: the wrapper's.
#   stopped-term     the command stops itself (SIGSTOP); the wrapper is sent SIGTERM. status: the
#                    wrapper's, or "hung" when it had not ended 20 s later.
import os
import pty
import select
import signal
import subprocess
import sys
import time

LIMIT = 20.0

# The command of the ctrl-c and group-int cases: takes SIGINT and SIGTERM with sigwaitinfo,
# so that it sees each one with its si_code, and prints one line per signal.
COUNTER = r"""
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
print("ready", os.getpid(), flush=True)
while True:
    i = signal.sigwaitinfo({signal.SIGINT, signal.SIGTERM})
    print("INT" if i.si_signo == signal.SIGINT else "TERM", i.si_code, i.si_pid, flush=True)
    if i.si_signo == signal.SIGTERM:
        sys.exit(0)
"""


def status_of(wait_status):
    return os.waitstatus_to_exitcode(wait_status) if os.WIFEXITED(wait_status) else 128 + os.WTERMSIG(wait_status)


def wait_exit(pid):
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status_of(st)
        time.sleep(0.001)
    raise SystemExit("the wrapper did not end")


class Lines:
    """Lines from a descriptor (a pipe, or a pseudo-terminal's master side), each read bounded."""

    def __init__(self, fd):
        self.fd, self.buf, self.seen = fd, b"", []

    def next(self):
        deadline = time.monotonic() + LIMIT
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise SystemExit("no line within %s s; seen: %r" % (LIMIT, self.seen))
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # EIO: the terminal has no slave side open any more
                data = b""
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.decode(errors="replace").strip("\r")
        self.seen.append(line)
        return line

    def rest_has(self, text):
        """1 when one of the lines up to the end is text, else 0."""
        found = 0
        while True:
            line = self.next()
            if line is None:
                return found
            found = found or int(line == text)

    def until(self, prefix):
        while True:
            line = self.next()
            if line is None:
                raise SystemExit("no line starting with %r; seen: %r" % (prefix, self.seen))
            if line.startswith("^C"):  # the terminal's echo of Ctrl-C
                line = line[2:]
            if line.startswith(prefix):
                return line


def sigchld_ignored(wrapper):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        os.execvp(wrapper[0], wrapper + ["sh", "-c", "exit 3"])
    print("status=%d" % wait_exit(pid))


# The command of the nohup-hangup case: it opens the terminal, says it is ready on descriptor 3
# (which nohup leaves alone), and reads the terminal until the hangup ends the read. Then it waits
# for a SIGTERM, blocked so that sigwaitinfo takes it: a wrapper that forwards SIGTERM forwards
# the SIGHUP it had before it, so a SIGHUP that reaches the command arrives first.
WATCHER = r"""
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
tty = os.open("/dev/tty", os.O_RDONLY)
os.write(3, b"ready %d\n" % os.getpid())
try:
    os.read(tty, 1)
except OSError:
    pass
os.write(3, b"hungup\n")
signal.sigwaitinfo({signal.SIGTERM})
os.write(3, b"survived\n")
"""


def end(pid, command):
    """Sends SIGTERM to the wrapper and waits for it; then to the command, if the wrapper did not
    pass it on. Returns the wrapper's exit status."""
    os.kill(pid, signal.SIGTERM)
    status = wait_exit(pid)
    try:
        os.kill(command, signal.SIGTERM)
    except ProcessLookupError:
        pass
    return status


def hangup(wrapper, prefix=()):
    report_r, report_w = os.pipe()
    pid, master = pty.fork()
    if pid == 0:
        os.dup2(report_w, 3)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)  # not a terminal: nohup leaves it, and writes no nohup.out
        os.dup2(null, 2)
        argv = list(prefix) + wrapper + [sys.executable, "-c", WATCHER]
        os.execvp(argv[0], argv)
    os.close(report_w)
    report = Lines(report_r)
    command = int(report.until("ready").split()[1])
    os.close(master)  # the hangup: the kernel sends SIGHUP (and SIGCONT) to the session leader
    hungup = report.next() == "hungup"  # else the command died of the hangup at once
    status = end(pid, command)
    print("survived=%d status=%d" % (hungup and report.next() == "survived", status))


def nohup_hangup(wrapper):
    hangup(wrapper, ["nohup"])


def count_ints(wrapper, pid, lines, interrupt):
    counter = int(lines.until("ready").split()[1])
    os.kill(pid, signal.SIGSTOP)
    os.waitpid(pid, os.WUNTRACED)
    interrupt()
    codes = [lines.until("INT").split()[1]]
    os.kill(pid, signal.SIGCONT)
    status = end(pid, counter)
    while True:
        line = lines.next()
        if line is None or line.startswith("TERM"):
            break
        if line.lstrip("^C").startswith("INT"):
            codes.append(line.split()[1])
    print("ints=%d codes=%s status=%d" % (len(codes), ",".join(codes), status))


def ctrl_c(wrapper):
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(wrapper[0], wrapper + [sys.executable, "-c", COUNTER])
    count_ints(wrapper, pid, Lines(master), lambda: os.write(master, b"\x03"))


def group_int(wrapper):
    p = subprocess.Popen(["setsid"] + wrapper + [sys.executable, "-c", COUNTER], stdout=subprocess.PIPE)
    count_ints(wrapper, p.pid, Lines(p.stdout.fileno()), lambda: os.killpg(p.pid, signal.SIGINT))
    p.returncode = 0  # reaped by wait_exit


def ctrl_c_script(wrapper):
    pid, master = pty.fork()
    if pid == 0:
        script = '"$@" sh -c "echo ready; exec sleep 60"; echo "step2 $?"'
        os.execvp("bash", ["bash", "-c", script, "bash"] + wrapper)
    lines = Lines(master)
    lines.until("ready")
    os.write(master, b"\x03")
    step2 = 0
    while True:
        line = lines.next()
        if line is None:
            break
        if line.lstrip("^C").startswith("step2"):
            step2 = 1
    print("step2=%d status=%d" % (step2, wait_exit(pid)))


def blocked_pending(wrapper):
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_w, 1)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        os.kill(os.getpid(), signal.SIGTERM)
        os.execvp(wrapper[0], wrapper + ["echo", "ran"])
    os.close(out_w)
    ran = Lines(out_r).rest_has("ran")
    print("ran=%d status=%d" % (ran, wait_exit(pid)))


def stopped_term(wrapper):
    p = subprocess.Popen(wrapper + ["sh", "-c", "echo ready $$; kill -STOP $$; exit 4"], stdout=subprocess.PIPE)
    command = int(Lines(p.stdout.fileno()).until("ready").split()[1])
    deadline = time.monotonic() + LIMIT
    while True:  # the handshake: the command's state is "stopped"
        with open("/proc/%d/stat" % command) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                break
        if time.monotonic() > deadline:
            raise SystemExit("the command did not stop")
        time.sleep(0.001)
    os.kill(p.pid, signal.SIGTERM)
    try:
        status = wait_exit(p.pid)
    except SystemExit:
        os.kill(command, signal.SIGKILL)
        os.kill(p.pid, signal.SIGKILL)
        status = "hung"
    p.returncode = 0
    print("status=%s" % status)


def usr1(wrapper):
    waiter = "import os, signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n" \
             "print('ready', flush=True)\nsignal.sigwaitinfo({signal.SIGUSR1})\nprint('got', flush=True)\n"
    p = subprocess.Popen(wrapper + [sys.executable, "-c", waiter], stdout=subprocess.PIPE)
    lines = Lines(p.stdout.fileno())
    lines.until("ready")
    os.kill(p.pid, signal.SIGUSR1)
    got = lines.rest_has("got")
    p.returncode = 0
    print("got=%d status=%d" % (got, wait_exit(p.pid)))


cases = {"ctrl-c-script": ctrl_c_script, "usr1": usr1, "blocked-pending": blocked_pending, "stopped-term": stopped_term,
         "sigchld-ignored": sigchld_ignored, "nohup-hangup": nohup_hangup, "hangup": hangup, "ctrl-c": ctrl_c, "group-int": group_int}
if len(sys.argv) < 3 or sys.argv[1] not in cases:
    raise SystemExit("usage: signal_cases.py {%s} WRAPPER [ARG...]" % "|".join(cases))
cases[sys.argv[1]](sys.argv[2:])
