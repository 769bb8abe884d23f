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
import subprocess
import sys
import traceback
from contextlib import contextmanager

BUILD_DIR = os.environ.get("MSGTK_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
SOURCE_DIR = os.environ.get("MSGTK_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS_DIR = os.environ.get("MSGTK_CORPUS_DIR", os.path.join(SOURCE_DIR, "..", "shared", "corpus"))
IN_CI = os.environ.get("CI", "") == "true"


class CheckFailed(AssertionError):
    pass


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        sys.stdout.reconfigure(line_buffering=True)

    def _line(self, ok, name, diag=None):
        self.n += 1
        name = name.replace("\n", " ").replace("#", "\\#")
        print(("ok" if ok else "not ok") + f" {self.n} - {name}")
        if not ok:
            self.failed += 1
            for l in (diag or "").rstrip().splitlines():
                print("# " + l)

    def ok(self, cond, name, diag=None):
        self._line(bool(cond), name, diag)
        return bool(cond)

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


def work_path(work, name, data=None):
    """Path of @name in the directory @work; with @data (bytes or str) the file is written."""
    p = os.path.join(work, name)
    if data is not None:
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    return p


def corpus_messages(limit=None, skip_mbox_like=False):
    """(name, bytes) of the corpus' single-message files, sorted: no mbox files,
    nothing empty, with NUL bytes, over 200 kB, or whose first line is no
    header field; with @skip_mbox_like also none starting with "From "."""
    out = []
    for root, dirs, files in os.walk(CORPUS_DIR):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            if "mbox" in f.lower() or f.endswith(".md"):
                continue
            with open(p, "rb") as fh:
                data = fh.read()
            if (not data.strip() or b"\0" in data or len(data) > 200_000
                    or b":" not in data.split(b"\n", 1)[0]
                    or (skip_mbox_like and data.startswith(b"From "))):
                continue
            out.append((os.path.relpath(p, CORPUS_DIR).replace("/", "_"), data))
    return out[:limit] if limit else out


def write_dir(path, msgs):
    """Write (name, bytes) pairs as numbered .eml files into @path."""
    os.makedirs(path, exist_ok=True)
    for i, (name, data) in enumerate(msgs):
        with open(os.path.join(path, f"{i:04d}-{name}.eml"), "wb") as f:
            f.write(data)
