"""The project's own test messages (tests/data): msgparse --check reports for
each fixture exactly the codes tests/data/MANIFEST names for it; every code
the documentation lists (doc/msgparse.1.scd CHECK CODES, doc/VIOLATIONS.md)
is produced by at least one fixture, with its documented severity, or is
listed below as one no input can produce, with the reason; the archives split
as doc/VIOLATIONS.md says."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, tool, run, SOURCE_DIR, FIXTURES_DIR, fixture_inputs, fixture_manifest  # noqa: E402

MSGPARSE = tool("msgparse")
EX_DATAERR = 65
t = Tap()

# Documented codes no input can make msgparse report, and why.
UNPRODUCIBLE = {
    "PARSE_OTHER": "msgparse reports a GMime parser warning under PARSE_OTHER only when it has no code "
                   "of its own, and every GMimeParserWarning GMime 3.2 defines has one; the code is "
                   "there for warnings a later GMime may add",
}


def documented_codes():
    """{code: severity} from the man page's CHECK CODES, and the same from
    doc/VIOLATIONS.md (each table row: codes, then one severity for all or one each)."""
    scd = open(os.path.join(SOURCE_DIR, "doc", "msgparse.1.scd"), encoding="utf-8").read()
    section = scd.split("\n# CHECK CODES", 1)[1].split("\n# ", 1)[0]
    man = {}
    for line in section.splitlines():
        pending = []
        for m in re.finditer(r"\*([A-Z][A-Z0-9_]+)\*|\((info|warning|error)\)", line):
            if m.group(1):
                pending.append(m.group(1))
            else:
                man.update((c, m.group(2)) for c in pending)
                pending = []
        man.update((c, None) for c in pending if c not in man)
    md = open(os.path.join(SOURCE_DIR, "doc", "VIOLATIONS.md"), encoding="utf-8").read()
    table = {}
    for row in md.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        codes = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]) if len(cells) >= 2 else []
        if not codes:
            continue
        sevs = [s.strip() for s in cells[1].split(",")]
        table.update(zip(codes, sevs if len(sevs) == len(codes) else sevs[:1] * len(codes)))
    return man, table


def entry_for(label, entries):
    """The manifest entry that speaks for a message label ("path" or "path#N"):
    the label itself, else its path, else the nearest directory above it."""
    path = label.split("#", 1)[0]
    candidates = [label, path]
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        candidates.append(path)
    for c in candidates:
        if c in entries:
            return c
    return None


man, table = documented_codes()
manifest = fixture_manifest()
entries = {label: (codes, kinds) for label, codes, kinds in manifest}
paths = fixture_inputs()

with t.case("MANIFEST: one entry per fixture, each naming a fixture that exists"):
    t.check(len(entries) == len(manifest), "an entry appears twice")
    for label in entries:
        t.check(os.path.exists(os.path.join(FIXTURES_DIR, label.split("#", 1)[0])), f"{label}: no such fixture")
    for p in paths:
        t.check(any(label == p or label.startswith(p + "#") or label.startswith(p + "/") for label in entries),
                f"{p}: not in the MANIFEST")
    for label, codes, _ in manifest:
        for c in codes or ():
            t.check(c in man, f"{label}: {c} is no documented code")

# ---- every fixture through --check ----
r = run([MSGPARSE, "--check", "--fail-on", "none", *paths], cwd=FIXTURES_DIR, timeout=600)
out = r.stdout.decode("utf-8", errors="replace")
err = r.stderr.decode("utf-8", errors="replace")
t.ok(r.returncode == EX_DATAERR, f"--check over {len(paths)} fixtures: exit {EX_DATAERR} (the fixtures that are no message)",
     f"exit {r.returncode}\n{err[-3000:]}")
found = {}  # label -> {code: {(severity, location)}}
for line in out.splitlines():
    m = re.match(r"^(\S+): (info|warning|error) ([A-Z][A-Z0-9_]*) (.*?): ", line)
    if m:
        found.setdefault(m.group(1), {}).setdefault(m.group(3), set()).add((m.group(2), m.group(4)))
refused = set(re.findall(r"^msgparse: (\S+): not a message", err, re.M))

# every message msgparse read or refused, and the manifest entry for it; a
# message of an archive (under archives/) is labelled "path#N"
labels = {label: entry_for(label, entries) for label in set(found) | refused}
r = run([MSGPARSE, "--json", *paths], cwd=FIXTURES_DIR, timeout=600)
for line in r.stdout.decode("utf-8", errors="replace").splitlines():
    src = json.loads(line)["source"]
    label = f"{src['path']}#{src['index']}" if src["path"].startswith("archives/") else src["path"]
    labels.setdefault(label, entry_for(label, entries))

for label, codes, kinds in manifest:
    mine = sorted(l for l, e in labels.items() if e == label)
    want = "not a message" if codes is None else (" ".join(sorted(codes)) or "no findings")
    with t.case(f"{label}: {want}"):
        t.check(mine, f"msgparse read no message of {label}")
        for l in mine:
            if codes is None:
                t.check(l in refused, f"{l}: read as a message, {sorted(found.get(l, {}))}")
                continue
            t.check(l not in refused, f"{l}: refused as not a message")
            got = found.get(l, {})
            t.check(set(got) == codes, f"{l}: got {sorted(got)}, want {sorted(codes)}")
            for code, kind in kinds:
                t.check(any(loc.startswith(kind) for _, loc in got[code]),
                        f"{l}: {code} at {sorted(loc for _, loc in got[code])}, want one at {kind} …")

unlisted = sorted(l for l, e in labels.items() if e is None)
t.ok(not unlisted, "every message of the fixtures has a MANIFEST entry", f"without one: {unlisted}")

# ---- the documentation's codes ----
produced = {}
for l, codes in found.items():
    for code, where in codes.items():
        for sev, _ in where:
            produced.setdefault(code, set()).add(sev)
t.ok(set(man) == set(table) and len(man) > 30,
     f"doc/msgparse.1.scd and doc/VIOLATIONS.md list the same {len(man)} codes",
     f"only in the man page: {sorted(set(man) - set(table))}\nonly in VIOLATIONS.md: {sorted(set(table) - set(man))}")
t.ok(all(man.get(c) == s for c, s in table.items()), "the two documents give each code the same severity",
     "\n".join(f"{c}: {man.get(c)} / {s}" for c, s in sorted(table.items()) if man.get(c) != s))
for code in sorted(man):
    if code in UNPRODUCIBLE:
        t.ok(code not in produced, f"{code}: no input produces it ({UNPRODUCIBLE[code]})",
             f"a fixture produces it after all: list it in the MANIFEST and drop it from UNPRODUCIBLE")
        continue
    t.ok(produced.get(code) == {man[code]}, f"{code}: produced by a fixture, as {man[code]}",
         f"severities seen: {sorted(produced.get(code, ()))}")
t.ok(set(produced) <= set(man), "every code the fixtures produce is documented",
     f"undocumented: {sorted(set(produced) - set(man))}")

# ---- the findings themselves ----
stray = [line for line in out.split("\n")[:-1] if not re.match(r"^\S+: (info|warning|error) [A-Z]", line)]
t.ok(not stray, "--check prints one finding per line, nothing else (a parser warning's raw field "
     "loses its line breaks)", "\n".join(map(repr, stray[:20])))
t.ok(not re.search(r" offset -\d", out), "each parser finding's location is a byte offset in the "
     "message, or 'message' for the whole of it (GMime says -1)",
     "\n".join(line for line in out.splitlines() if " offset -" in line))

# ---- archives split as doc/VIOLATIONS.md says ----
ARCHIVES = {
    # archive: subjects of its messages, in order (None: not a message)
    "archives/mboxrd.mbox": ["mboxrd quoting", "second, unread", "flagged draft"],
    "archives/content-length.mbox": ["a true Content-Length", "a false Content-Length is ignored",
                                     "no Content-Length"],
    "archives/crlf.mbox": ["CRLF mbox one", "CRLF mbox two"],
    "archives/mboxo-unquoted.mbox": ["a body with an unquoted From_ line", None, "the message after it"],
    "archives/bom.mbox": ["a UTF-8 BOM before the first From_ line"],
    "archives/hostile.mbox": ["8-bit: café", "no From, no Date"],
}
for archive, subjects in ARCHIVES.items():
    with t.case(f"{archive}: split into its messages as documented"):
        r = run([MSGPARSE, "--json", archive], cwd=FIXTURES_DIR)
        objs = [json.loads(line) for line in r.stdout.decode().splitlines()]
        got = {o["source"]["index"]: o["subject"] for o in objs}
        t.check([got.get(i + 1) for i in range(len(subjects))] == subjects and len(got) == len(
            [s for s in subjects if s is not None]), f"subjects by position: {got}")
with t.case("archives/content-length.mbox: a From_ line inside a true Content-Length body is body"):
    r = run([MSGPARSE, "--text", "--select", "1", "archives/content-length.mbox"], cwd=FIXTURES_DIR)
    t.check(b"\nFrom here on it is still body\n" in r.stdout, r.stdout)
with t.case("archives/mboxrd.mbox: >From lines lose one >"):
    r = run([MSGPARSE, "--text", "--select", "1", "archives/mboxrd.mbox"], cwd=FIXTURES_DIR)
    t.check(b"\nFrom quoted once\n>From quoted twice\n" in r.stdout, r.stdout)
with t.case("archives/maildir: flags from the file names, maildir++ folders"):
    r = run([MSGPARSE, "--json", "archives/maildir"], cwd=FIXTURES_DIR)
    got = sorted((o["source"]["folder"] or "", o["subject"], tuple(sorted(o["source"]["flags"])))
                 for o in map(json.loads, r.stdout.decode().splitlines()))
    t.check(got == sorted([
        ("", "maildir: seen", ("seen",)),
        ("", "maildir: flagged, replied, seen", ("answered", "flagged", "seen")),
        ("", "maildir: draft, trashed", ("deleted", "draft")),
        ("", "maildir: new", ()),
        ("Archive", "maildir++ sub-folder", ("seen",)),
        ("Archive/2023", "nested maildir++ folder, CRLF", ()),
    ]), f"{got}")
t.done()
