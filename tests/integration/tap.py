"""Minimal TAP producer for msgtk's Python integration tests.

    from tap import Tap, tool
    t = Tap()
    with t.case("builds a message"):
        out = run_tool("msgbuild", "--from", "a@b.c") ...
        t.check(cond, "what was expected")   # raising inside a case fails it
    t.done()

Every case prints one "ok"/"not ok" line; the plan comes at the end.
"""
import os
import re
import subprocess
import sys
import traceback
from contextlib import contextmanager

BUILD_DIR = os.environ.get("MSGTK_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
SOURCE_DIR = os.environ.get("MSGTK_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
IN_CI = os.environ.get("CI", "") == "true"
# The project's own test messages (tests/data/README.md): every test has them.
FIXTURES_DIR = os.path.join(SOURCE_DIR, "tests", "data")
# The external corpus of real-world messages adds cases where it is present:
# MSGTK_CORPUS names it, else MSGTK_CORPUS_DIR (tests/meson.build: ../shared/corpus
# beside the source tree), else that same default.
CORPUS_NAMED = os.environ.get("MSGTK_CORPUS") or None
CORPUS_DIR = (CORPUS_NAMED or os.environ.get("MSGTK_CORPUS_DIR")
              or os.path.join(SOURCE_DIR, "..", "shared", "corpus"))
HAVE_CORPUS = os.path.isdir(CORPUS_DIR)
CORPUS_MISSING = "corpus not found"


class CheckFailed(AssertionError):
    pass


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        sys.stdout.reconfigure(line_buffering=True)

    def _line(self, ok, name, diag=None, directive=None):
        self.n += 1
        name = name.replace("\n", " ").replace("#", "\\#")
        print(("ok" if ok else "not ok") + f" {self.n} - {name}" + (f" # {directive}" if directive else ""))
        if not ok and not (directive or "").startswith("TODO"):
            self.failed += 1
        if not ok:
            for l in (diag or "").rstrip().splitlines():
                print("# " + l)

    def ok(self, cond, name, diag=None):
        self._line(bool(cond), name, diag)
        return bool(cond)

    def skip(self, name, reason):
        """A case that cannot run here: "ok N - name # SKIP reason"."""
        self._line(True, name, directive=f"SKIP {reason}")

    def todo(self, cond, name, why, diag=None):
        """A case for a known defect (@why): "not ok N - name # TODO why" fails nothing
        until it is fixed, then it says "ok"."""
        self._line(bool(cond), name, diag, directive=f"TODO {why}")

    def corpus(self):
        """Whether the external corpus (CORPUS_DIR) is there. When it is not, its
        cases are skipped (skip them with CORPUS_MISSING), and under CI=true, or
        when MSGTK_CORPUS names a folder that is not there, one failing case
        says so: CI never passes by silently skipping them."""
        if HAVE_CORPUS:
            return True
        if IN_CI or CORPUS_NAMED:
            why = "MSGTK_CORPUS names it" if CORPUS_NAMED else "CI=true needs it (set MSGTK_CORPUS)"
            self._line(False, f"{CORPUS_MISSING} at {CORPUS_DIR}: {why}")
        return False

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got:  {got!r}\nwant: {want!r}")

    @staticmethod
    def check(cond, what):
        if not cond:
            raise CheckFailed(what)

    @contextmanager
    def case(self, name):
        try:
            yield
        except CheckFailed as e:
            self._line(False, name, str(e))
        except Exception:
            self._line(False, name, traceback.format_exc())
        else:
            self._line(True, name)

    def diag(self, text):
        for l in str(text).splitlines():
            print("# " + l)

    def done(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def tool(name):
    """Path of a built tool."""
    return os.path.join(BUILD_DIR, "tools", name)


def run(args, input=None, env=None, timeout=120, cwd=None):
    """Run a command; returns CompletedProcess with bytes stdout/stderr."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=e, timeout=timeout, cwd=cwd)


def serve_once(handler):
    """A loopback server that runs @handler(connection) on one client, in a
    thread (for peers that misbehave below any protocol); its port."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        try:
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()
            srv.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def read_pty(master, each=None):
    """All a pseudo-terminal's master side gets until its slave side is
    closed; each(seen so far) after every read."""
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if each is not None:
            each(seen)
    return seen


def work_path(work, name, data=None):
    """Path of @name in the directory @work; with @data (bytes or str) the file is written."""
    p = os.path.join(work, name)
    if data is not None:
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    return p


def messages_in(top, limit=None, skip_mbox_like=False):
    """(name, bytes) of the single-message files under @top, sorted: no mbox files,
    nothing empty, with NUL bytes, over 200 kB, or whose first line is no
    header field; with @skip_mbox_like also none starting with "From "."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            if "mbox" in f.lower() or f.endswith(".md"):
                continue
            with open(p, "rb") as fh:
                data = fh.read()
            if (not data.strip() or b"\0" in data or len(data) > 200_000
                    or not (re.match(rb"(\xef\xbb\xbf)?[!-9;-~]+[ \t]*:", data) or data.startswith(b"From "))
                    or (skip_mbox_like and data.startswith(b"From "))):
                continue
            out.append((os.path.relpath(p, top).replace("/", "_"), data))
    return out[:limit] if limit else out


def corpus_messages(limit=None, skip_mbox_like=False):
    """messages_in() of the external corpus: [] where it is not."""
    return messages_in(CORPUS_DIR, limit, skip_mbox_like) if HAVE_CORPUS else []


def fixture_messages(limit=None, skip_mbox_like=False):
    """messages_in() of the project's fixtures (tests/data/messages)."""
    return messages_in(os.path.join(FIXTURES_DIR, "messages"), limit, skip_mbox_like)


def write_dir(path, msgs):
    """Write (name, bytes) pairs as numbered .eml files into @path."""
    os.makedirs(path, exist_ok=True)
    for i, (name, data) in enumerate(msgs):
        with open(os.path.join(path, f"{i:04d}-{name}.eml"), "wb") as f:
            f.write(data)


def fixture_inputs():
    """The fixtures as msgparse reads them, relative to FIXTURES_DIR: each file
    of messages/ and each archive (mbox file or maildir) of archives/."""
    return [f"{sub}/{name}" for sub in ("messages", "archives")
            for name in sorted(os.listdir(os.path.join(FIXTURES_DIR, sub)))]


def fixture_manifest():
    """tests/data/MANIFEST: [(label, set of codes, or None for input that is not
    a message, [(code, location kind)])] in file order."""
    out = []
    with open(os.path.join(FIXTURES_DIR, "MANIFEST"), encoding="utf-8") as f:
        for line in f:
            words = line.split() if not line.lstrip().startswith("#") else []
            if not words:
                continue
            label, rest = words[0], words[1:]
            if rest == ["not-a-message"]:
                out.append((label, None, []))
                continue
            codes, kinds = set(), []
            for w in rest if rest != ["-"] else []:
                code, _, kind = w.partition("@")
                codes.add(code)
                if kind:
                    kinds.append((code, kind))
            out.append((label, codes, kinds))
    return out

