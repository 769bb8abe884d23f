#!/usr/bin/env python3
"""The scripted server of the integration tests: transcript-peer (built from
tests/servers/transcript-peer.c over tests/unit/transcript.c) playing a
transcript (the format: tests/data/transcripts/README.md) to a tool, on
127.0.0.1 (the well-behaved servers are Dovecot and smtp-sink, peers.py).

    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
    from transcriptpeer import TranscriptPeer, transcript_lines

    with TranscriptPeer(workdir, "greet-421", "S: 421 4.3.2 busy\\n-- close --\\n") as peer:
        r = run([MSGSEND, "--host", peer.host, "--port", str(peer.port),
                 "--tls-trust-file", peer.cafile, ...])
    peer.check(t)    # a TAP check: the tool's dialogue was the transcript's

The transcript (str or bytes) is written to @workdir/NAME.txt, and the
program's throw-away certificate goes under @workdir too. Leaving the block
tells the program that the client is done (its standard input closes) and
waits for its verdict; a program that does not end is killed by its PID.
check(t) fails the case with the program's account of the departure: the
line of the transcript, what it expected, what the client sent.
"""
import os
import signal
import subprocess

BUILD_DIR = os.environ.get("MSGTK_BUILD_DIR",
                           os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
PROGRAM = os.path.join(BUILD_DIR, "tests", "servers", "transcript-peer")
HOST = "127.0.0.1"


def transcript_lines(side, data):
    """@data (bytes, each line ending in CRLF) as transcript lines of @side
    ("S" or "C"): one "S: line" a line, as the wire carries it."""
    assert data.endswith(b"\r\n"), "a dialogue's data ends with CRLF"
    return b"".join(side.encode() + b": " + line + b"\n" for line in data[:-2].split(b"\r\n"))


class TranscriptPeer:
    def __init__(self, workdir, name, transcript, timeout=120):
        self.workdir = os.path.abspath(workdir)
        self.name = name
        self.transcript = transcript if isinstance(transcript, bytes) else transcript.encode()
        self.timeout = timeout
        self.host = HOST
        self.port = self.cafile = None
        self.proc = None
        self.returncode = None
        self.stderr = ""

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.path = os.path.join(self.workdir, self.name + ".txt")
        with open(self.path, "wb") as f:
            f.write(self.transcript)
        self.errpath = os.path.join(self.workdir, self.name + ".stderr")
        with open(self.errpath, "wb") as err:
            self.proc = subprocess.Popen([PROGRAM, "--timeout", str(self.timeout), self.path],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                         env=dict(os.environ, TMPDIR=self.workdir))
        port = self.proc.stdout.readline().strip()
        cafile = self.proc.stdout.readline().strip()
        self.proc.stdout.close()
        if not port or not cafile:
            self.finish()
            raise RuntimeError(f"transcript-peer {self.path} did not start "
                               f"(exit {self.returncode}): {self.stderr}")
        self.port, self.cafile = int(port), cafile.decode()
        return self

    def finish(self):
        """Say the client is done and take the program's verdict (once)."""
        if self.proc is None or self.returncode is not None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.returncode = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.returncode = -signal.SIGKILL
        with open(self.errpath, "rb") as f:
            self.stderr = f.read().decode(errors="replace")
        if self.returncode < 0:
            self.stderr += f"\n(transcript-peer ended by signal {-self.returncode})"

    @property
    def followed(self):
        """Whether the client followed the transcript (the program finished)."""
        self.finish()
        return self.returncode == 0

    def check(self, t):
        """A check of the TAP case @t is in: the client's dialogue was the transcript's."""
        t.check(self.followed, f"the client departed from the transcript {self.path}:\n{self.stderr}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.finish()
