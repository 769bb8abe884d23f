"""The house rules of doc/HACKING.md, checked: its module map names every
file of the library and nothing else; the library never prints and never
names a command-line option; one include style; the umbrella header includes
every public header; the shared library exports the public API only."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR, BUILD_DIR  # noqa: E402

t = Tap()
SRC = os.path.join(SOURCE_DIR, "src")
INC = os.path.join(SOURCE_DIR, "include", "msgtk")
sources = sorted(f for f in os.listdir(SRC) if f.endswith((".c", ".h")))
headers = sorted(f for f in os.listdir(INC) if f.endswith(".h"))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_only(text):
    """The text with comments blanked out (strings kept)."""
    return re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)


# ---- the module map ----
hacking = read(os.path.join(SOURCE_DIR, "doc", "HACKING.md"))
module_map = hacking[hacking.index("## Module map"):hacking.index("## House rules")]
mapped = set(re.findall(r"`([a-z0-9-]+\.[ch])`", module_map))
for f in sources + [h for h in headers if h != "msgtk.h"]:
    t.ok(f in mapped, f"doc/HACKING.md's module map names {f}")
for f in sorted(mapped):
    t.ok(f in sources or f in headers or os.path.exists(os.path.join(SOURCE_DIR, f)) or f == "msgtk.h",
         f"{f}, named in doc/HACKING.md, exists")

# ---- the library never prints, never names an option ----
printing = re.compile(r"(?<![\w])(?:printf|puts|g_print|g_printerr|g_warning|g_message)\s*\(|\bstderr\b|\bstdout\b")
option = re.compile(r'"(?:[^"\\\n]|\\.)*?(?<![\w-])--[a-z][a-z0-9-]+')
for f in sources:
    text = code_only(read(os.path.join(SRC, f)))
    # (fprintf to a FILE the caller gave, a trace, is the caller's output)
    hits = [m.group(0) for m in printing.finditer(text)]
    t.ok(not hits, f"src/{f} prints nothing itself", f"{hits}")
    opts = [m.group(0) for m in option.finditer(text)]
    t.ok(not opts, f"src/{f} names no command-line option", "\n".join(opts))

# ---- one include style ----
for f in sources:
    lines = [l for l in read(os.path.join(SRC, f)).splitlines() if l.startswith("#include ")]
    groups = ["public" if l.startswith("#include <msgtk/") else "private" if l.startswith('#include "')
              else "system" for l in lines]
    order = {"public": 0, "private": 1, "system": 2}
    ranks = [order[g] for g in groups]
    ok = ranks == sorted(ranks) and all(
        lines[i] <= lines[i + 1] for i in range(len(lines) - 1) if groups[i] == groups[i + 1])
    if f.endswith(".h"):  # a header includes what it needs, the same way
        ok = all(not l.startswith('#include "msgtk/') for l in lines) and ranks == sorted(ranks)
    t.ok(ok, f"src/{f}: includes as <msgtk/...>, then \"...-private.h\", then the system's, sorted",
         "\n".join(lines))

# ---- the umbrella header, and the exported symbols ----
umbrella = read(os.path.join(INC, "msgtk.h"))
for h in headers:
    if h != "msgtk.h":
        t.ok(f"#include <msgtk/{h}>" in umbrella, f"msgtk.h includes {h}")
declared = set()
for h in headers:
    declared |= set(re.findall(r"\b(msgtk_[a-z0-9_]+)\s*\(", code_only(read(os.path.join(INC, h)))))
lib = os.path.join(BUILD_DIR, "src", "libmsgtk.so")
out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
exported = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in "TDB"}
t.ok(exported, f"{lib} exports symbols")
for s in sorted(exported - declared):
    t.ok(False, f"{s} is exported but declared in no public header (name it without msgtk_)")
t.ok(exported - declared == set(), "every exported symbol is public API")
t.done()
