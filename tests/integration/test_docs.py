"""Man page ↔ --help-all agreement for one tool (given as the argument):
every long option --help-all lists appears in doc/TOOL.1.scd, and every option
the man page's OPTIONS section documents appears in --help-all."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, tool, run, SOURCE_DIR  # noqa: E402

name = sys.argv[1]
t = Tap()
GENERIC = {"help", "help-all"}

r = run([tool(name), "--help-all"], env={"LC_ALL": "C.UTF-8"})
t.eq(r.returncode, 0, f"{name} --help-all exits 0")
help_text = r.stdout.decode()
help_opts = set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)", help_text, re.M))
help_opts = {o for o in help_opts if o not in GENERIC and not o.startswith("help-")}
t.ok(help_opts, f"{name} --help-all lists options")

page = os.path.join(SOURCE_DIR, "doc", f"{name}.1.scd")
with open(page, encoding="utf-8") as f:
    scd = f.read()
m = re.search(r"^# OPTIONS\s*$(.*?)(?=^# )", scd, re.M | re.S)
t.ok(m, f"doc/{name}.1.scd has an OPTIONS section")
section = m.group(1) if m else ""
# Option entries are lines starting with *-x*, *--long* ... (several per line allowed).
man_opts = set()
for line in section.splitlines():
    if line.startswith("*-"):
        man_opts |= set(re.findall(r"\*--([a-z0-9][a-z0-9-]*)\*", line))
man_opts -= GENERIC

for o in sorted(help_opts):
    t.ok(o in man_opts, f"--{o} (from --help-all) is documented in OPTIONS of {name}(1)")
for o in sorted(man_opts - help_opts):
    t.ok(False, f"--{o} is in {name}(1) OPTIONS but not in --help-all")
r = run([tool(name), "--version"], env={"LC_ALL": "C.UTF-8"})
t.ok(r.returncode == 0 and re.fullmatch(rf"{name} \(msgtk\) \d+\.\d+\.\d+\n", r.stdout.decode()),
     f"{name} --version prints its name and msgtk's version", r.stdout.decode() + r.stderr.decode())
# the help in a UTF-8 locale is UTF-8, not question marks for what is not ASCII
t.ok("[OPTION…]" in help_text and "?" not in help_text.split("\n")[1],
     f"{name} --help prints UTF-8 in a UTF-8 locale", help_text[:200])
t.done()
