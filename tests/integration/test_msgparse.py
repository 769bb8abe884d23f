"""msgparse over the project's fixtures (tests/data), the external corpus where
it is present, and hand-made hostile input: every view without a crash and
with valid UTF-8 / JSON; a differential check against Python's email package
(policy=default); extraction safety; mbox → maildir → mbox round trip with
flags; --to-dir, --select, --part, --check/--fail-on; error exit codes;
charset fallbacks; every archive layout (mutt's directory of mbox files,
Thunderbird, Apple Mail, MH, compressed files) with its folders, and what is
not mail in a tree named."""
import email
import email.policy
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import (Tap, tool, run, read_pty, work_path, SOURCE_DIR, CORPUS_DIR, CORPUS_MISSING, FIXTURES_DIR,  # noqa: E402
                 fixture_inputs, fixture_manifest)
from layouts import write_layouts  # noqa: E402

MSGPARSE = tool("msgparse")
EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66
ENV = {"LC_ALL": "C.UTF-8"}
t = Tap()
work = tempfile.mkdtemp(prefix="msgparse-test-")


def mp(*args, input=None, cwd=None):
    return run([MSGPARSE, *args], input=input, env=ENV, cwd=cwd, timeout=600)


def path(name, data=None):
    return work_path(work, name, data)


def utf8(b, what):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"{what}: invalid UTF-8 at byte {e.start}: {b[max(0, e.start - 40):e.start + 40]!r}")


def json_lines(b, what):
    return [json.loads(line) for line in utf8(b, what).splitlines() if line]


def flatten(node, out):
    out.append(node)
    for c in node["children"]:
        flatten(c, out)
    return out


HAVE_CORPUS = t.corpus()
corpus = sorted(os.path.join(d, f) for d, _, fs in os.walk(CORPUS_DIR) for f in fs
                if f not in ("SOURCES.md", ".gitattributes")) if HAVE_CORPUS else []
if HAVE_CORPUS:
    t.ok(len(corpus) >= 250, f"corpus found at {CORPUS_DIR} ({len(corpus)} files)")
else:
    t.skip(f"corpus at {CORPUS_DIR}: 250 files or more", CORPUS_MISSING)
rel = {p: os.path.relpath(p, CORPUS_DIR) for p in corpus}

# The project's fixtures go through the same cases, corpus or not: every
# fixture for the views, its single messages for the rest; named by their
# path in the source tree.
fixtures = [os.path.join(FIXTURES_DIR, p) for p in fixture_inputs()]
rel.update((p, os.path.relpath(p, SOURCE_DIR)) for p in fixtures)
FIXTURE_NOT_MESSAGES = {os.path.join("tests", "data", label) for label, codes, _ in fixture_manifest()
                        if codes is None}
fixture_singles = [p for p in fixtures if rel[p].startswith("tests/data/messages/")
                   and rel[p] not in FIXTURE_NOT_MESSAGES]

# Files GMime does not see a header field in (Python parses anything as a
# message, all of it body): msgparse says EX_DATAERR for these.
NOT_MESSAGES = {
    "enmime/low-quality/bad-header-start.raw": "starts with a folded (space-led) line, so no field",
    "enmime/mail/erroneous.raw": "a line of text, no header",
    "mime4j/core/src/test/resources/testmsgs/malformedHeader-noheader.msg": "body text only",
    "mimekit/UnitTests/TestData/yenc/state-changes.ntx": "yEnc lines, no header",
    "python-cpython/msg_19.txt": "a digest's body text, no header",
    # an mbox whose body has an unquoted "From " line after an empty line: as
    # in every mboxo reader that line starts a new message, which has no header
    "mimekit/UnitTests/TestData/mbox/unmunged.mbox.txt#2": "mboxo ambiguity: 'From Russia with love'",
}

# ---- every view over the whole corpus, and over the fixtures ----
VIEWS = [[], ["--headers"], ["--headers", "--raw"], ["--tree"], ["--text"], ["--json"],
         ["--check", "--fail-on", "none"]]


def through_view(view, what, paths, root, not_messages):
    name = " ".join(view) or "(summary)"
    with t.case(f"{what} through {name}: no crash, valid UTF-8"):
        r = mp(*view, *paths)
        t.check(r.returncode in (0, EX_DATAERR), f"exit {r.returncode}: {r.stderr[-2000:]!r}")
        out = utf8(r.stdout, name)
        err = utf8(r.stderr, name + " stderr")
        t.check("AddressSanitizer" not in err and "runtime error" not in err, err[-2000:])
        bad = {os.path.relpath(m, root)
               for m in re.findall(r"^msgparse: (.*?): not a message", err, re.M)}
        t.check(bad == set(not_messages), f"not-a-message files: {sorted(bad)}")
        if view == ["--json"]:
            objs = json_lines(r.stdout, name)
            t.check(len(objs) >= len(paths) - len(not_messages), f"{len(objs)} JSON lines")
            for o in objs:
                for k in ("subject", "from", "sender", "reply_to", "to", "cc", "bcc", "date",
                          "message_id", "headers", "tree", "defects", "source"):
                    t.check(k in o, f"member {k} in {o['source']['path']}")
        if view == []:
            t.check(len(out.splitlines()) >= len(paths) - len(not_messages), "a line per message")


for view in VIEWS:
    if HAVE_CORPUS:
        through_view(view, "corpus", corpus, CORPUS_DIR, NOT_MESSAGES)
    else:
        t.skip(f"corpus through {' '.join(view) or '(summary)'}: no crash, valid UTF-8", CORPUS_MISSING)
    through_view(view, "fixtures", fixtures, SOURCE_DIR, FIXTURE_NOT_MESSAGES)


def parts_and_extract(what, paths, not_messages):
    with t.case(f"{what}: --part and --extract on every leaf of every message"):
        ext = os.path.join(work, f"{what}-extract")
        for p in paths:
            if rel[p] in not_messages or "mbox" in os.path.basename(p):
                continue
            r = mp("--json", p)
            t.check(r.returncode == 0, f"{rel[p]}: exit {r.returncode}")
            o = json_lines(r.stdout, p)[0]
            for part in flatten(o["tree"], []):
                if "sha256" not in part:
                    continue
                r = mp("--part", part["part"], p)
                t.check(r.returncode == 0, f"{rel[p]} --part {part['part']}: {r.stderr!r}")
                t.check(hashlib.sha256(r.stdout).hexdigest() == part["sha256"],
                        f"{rel[p]} --part {part['part']}: content differs from the JSON sha256")
            r = mp("--extract", ext, "--text-to-utf8", p)
            t.check(r.returncode == 0, f"{rel[p]} --extract: {r.stderr!r}")
            for line in utf8(r.stdout, "--extract").splitlines():
                t.check(os.path.dirname(line) == ext and os.path.isfile(line), f"{rel[p]}: wrote {line!r}")
        shutil.rmtree(ext, ignore_errors=True)


if HAVE_CORPUS:
    parts_and_extract("corpus", corpus, NOT_MESSAGES)
else:
    t.skip("corpus: --part and --extract on every leaf of every message", CORPUS_MISSING)
parts_and_extract("fixtures", fixture_singles, FIXTURE_NOT_MESSAGES)

# ---- differential against Python's email package ----
def py_addresses(header):
    if header is None:
        return []
    return [(a.display_name or None, a.addr_spec or None) for a in header.addresses]


def py_parts(m):
    out = []
    for p in m.walk():
        d = {"type": p.get_content_type(), "filename": p.get_filename()}
        if not p.is_multipart():
            d["sha256"] = hashlib.sha256(p.get_payload(decode=True) or b"").hexdigest()
        out.append(d)
    return out


def norm(s):
    s = re.sub(r"\s+", " ", s or "").strip()
    return s or None


# Where msgparse (GMime) and Python's email package (policy=default) read a
# message differently, and why; the test fails when a listed difference goes
# away (so the list stays true) or an unlisted one appears.
R_COMMENT_NAME = "From: addr (Name): GMime takes the RFC 822 comment as the display name, Python does not"
R_MULTI_FIELD = "the field appears twice: GMime joins both lists, Python reads the first"
R_PY_DEFECT = "Python's header parser gives up on this malformed field (defect, no value)"
R_OPAQUE = ("GMime keeps this message/* part (partial, external-body, delivery-status, or an "
            "encoded message/rfc822) as one opaque leaf; Python parses its content as sub-parts")
R_BAD_CTYPE = "malformed Content-Type: the two parsers recover a different type or structure"
R_NOSUBTYPE = "Content-Type without a subtype: GMime says application/octet-stream, Python text/plain"
R_BOUNDARY = "broken, missing or misplaced boundaries: the two parsers split the parts differently"
R_FILENAME_2047 = ("RFC 2047 encoded words inside a quoted filename parameter: msgparse decodes "
                   "them (the common non-standard form), Python keeps them literally")
R_FILENAME_NAME = "filename only in Content-Type name=: GMime falls back to it, Python does not"
R_FILENAME_BADHDR = "a broken folded header: the parsers attach the filename parameter differently"
R_DECODE = ("the decoded content differs where the encoding is broken (invalid base64/QP, "
            "trailing garbage, bodies cut by a boundary) and each decoder recovers differently")
R_HEADER_END = ("the header block ends differently (a line of spaces, a line without a colon, no "
                "empty line, a leading From_ line that makes it an mbox), so the body differs")
R_EMPTY_MULTIPART = ("a multipart in which no part is found (no or wrong boundary): GMime keeps an "
                     "empty multipart, Python turns it into a leaf and hashes its text")
R_SUBJECT_OBS = "obsolete syntax (space before the colon): GMime reads the field, Python does not"
R_LONG_BOUNDARY = ("a boundary longer than the 70 characters RFC 2046 allows, or ending in spaces: "
                   "GMime does not match its delimiter lines, Python does")
R_REPORT_TO = "To of a report's embedded headers: the two parsers attach it differently"
KNOWN = {}  # corpus files
KNOWN_FIXTURES = {}  # tests/data/messages files


def known(reason, field, *files, table=KNOWN):
    for f in files:
        table.setdefault(f, {})[field] = reason


known(R_COMMENT_NAME, "from",
      "mime4j/core/src/test/resources/mimetools-testmsgs/german.msg",
      "mime4j/core/src/test/resources/mimetools-testmsgs/not-mime.msg",
      "mimekit/UnitTests/TestData/messages/bounce.txt",
      *[f"python-cpython/msg_{n}.txt" for n in ("01", "03", "04", "06", "14", "20", "27", "29", "44")])
known(R_COMMENT_NAME, "to", "python-cpython/msg_27.txt")
known(R_MULTI_FIELD, "from", "enmime/mail/malformed-multiple-address-header-values.raw")
known(R_MULTI_FIELD, "to", "python-cpython/msg_25.txt")
known(R_PY_DEFECT, "from", "enmime/mail/qp-utf8-header-recursed.raw",
      "mimekit/UnitTests/TestData/messages/issue358.txt", "python-cpython/msg_43.txt")
known(R_PY_DEFECT, "to", "mimekit/UnitTests/TestData/messages/delivery-status-no-blank-line.txt",
      "mimekit/UnitTests/TestData/messages/delivery-status.anonymized.eml",
      "mimekit/UnitTests/TestData/messages/delivery-status.txt",
      "mimekit/UnitTests/TestData/messages/stack-overflow.txt")
known(R_SUBJECT_OBS, "subject", "mime4j/core/src/test/resources/testmsgs/obsolete.msg")
for f in ("mimekit/UnitTests/TestData/messages/feedback-report.txt",):
    known(R_SUBJECT_OBS, "subject", f)
    known(R_REPORT_TO, "to", f)
known(R_OPAQUE, "types",
      "gmime/data/partial/input/photo-discuss/message-partial.0.eml",
      "gmime/data/partial/input/photo-discuss/message-partial.1.eml",
      "gmime/data/partial/input/photo-discuss/message-partial.2.eml",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-2gifs-base64.msg",
      "mime4j/core/src/test/resources/testmsgs/bad-newlines-multiple-parts-base64.msg",
      "mime4j/core/src/test/resources/testmsgs/base64encoded-rfc822message-nested.msg",
      "mime4j/core/src/test/resources/testmsgs/base64encoded-rfc822message.msg",
      "mimekit/UnitTests/TestData/messages/bounce.txt",
      "mimekit/UnitTests/TestData/messages/delivery-status-multiple-blank-lines.txt",
      "mimekit/UnitTests/TestData/messages/delivery-status-no-blank-line.txt",
      "mimekit/UnitTests/TestData/messages/delivery-status.anonymized.eml",
      "mimekit/UnitTests/TestData/messages/delivery-status.txt",
      "mimekit/UnitTests/TestData/messages/delivery-status2.txt",
      "mimekit/UnitTests/TestData/messages/disposition-notification.anonymized.eml",
      "mimekit/UnitTests/TestData/messages/disposition-notification.txt",
      "mimekit/UnitTests/TestData/partial/rfc2046.0.eml",
      "mimekit/UnitTests/TestData/partial/rfc2046.1.eml",
      "python-cpython/msg_16.txt", "python-cpython/msg_36.txt", "python-cpython/msg_43.txt")
known(R_BAD_CTYPE, "types",
      "enmime/mail/mime-bad-content-type.raw", "enmime/mail/mime-blank-media-name.raw",
      "enmime/mail/qp-utf8-header-no-break.raw",
      "mimekit/UnitTests/TestData/messages/feedback-report.txt",
      "mimekit/UnitTests/TestData/messages/issue358.txt")
known(R_NOSUBTYPE, "types", "mimekit/UnitTests/TestData/messages/missing-subtype.txt",
      "python-cpython/msg_14.txt", "enmime/parts/barren-content-type.raw",
      "enmime/parts/empty-ctype-bad-content.raw")
known(R_BAD_CTYPE, "types", "enmime/parts/ctype-invalid-characters.raw")
known(R_LONG_BOUNDARY, "types", "mime4j/core/src/test/resources/testmsgs/very-long-boundary.msg",
      "mime4j/core/src/test/resources/testmsgs/very-very-long-boundary.msg",
      "mime4j/core/src/test/resources/testmsgs/weird-boundary.msg")
known(R_BOUNDARY, "types",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-bad.msg",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-digest.msg",
      "mime4j/core/src/test/resources/testmsgs/multipartemptypart.msg",
      "mimekit/Benchmarks/TestData/messages/startrek.eml",
      "python-cpython/msg_15.txt", "python-cpython/msg_38.txt", "python-cpython/msg_39.txt")
known(R_FILENAME_2047, "filenames",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-2evil.msg",
      "mime4j/core/src/test/resources/mimetools-testmsgs/russian.msg",
      "mime4j/core/src/test/resources/testmsgs/russian-headers.msg")
known(R_FILENAME_BADHDR, "filenames", "enmime/low-quality/bad-header-wrap.raw")
known(R_FILENAME_NAME, "filenames",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-frag.msg",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-nested.msg",
      "mime4j/core/src/test/resources/mimetools-testmsgs/multi-nested3.msg")
known(R_DECODE, "sha256", *"""
enmime/low-quality/bad-header-wrap.raw enmime/mail/inlinemultipart.raw
enmime/mail/malformed-multiple-address-header-values.raw
enmime/mail/mime-bad-content-transfer-encoding.raw enmime/mail/mime-duplicate-param.raw
enmime/mail/mime-unquoted-tspecials-param.raw enmime/parts/badboundary.raw
enmime/parts/extra-base64-character.raw enmime/parts/multi-malformed.raw
enmime/parts/multimixed-no-closing-boundary.raw
mime4j/core/src/test/resources/mimetools-testmsgs/frag.msg
mime4j/core/src/test/resources/mimetools-testmsgs/multi-frag.msg
mime4j/core/src/test/resources/mimetools-testmsgs/twopart.msg
mime4j/james-utils/src/test/resources/sampleMail.msg
mimekit/UnitTests/TestData/dkim/multipart-no-end-boundary.msg python-cpython/msg_47.txt
""".split())
known(R_HEADER_END, "sha256", *"""
mime4j/core/src/test/resources/mimetools-testmsgs/hdr-fakeout.msg
mime4j/core/src/test/resources/testmsgs/basic-plain-with-bad-header-separator.msg
mime4j/core/src/test/resources/testmsgs/malformedHeader-nocrlfcrlf.msg
mime4j/core/src/test/resources/testmsgs/obsolete.msg
mime4j/dom/src/test/resources/mime4j-219-new-date-time-format.msg
mimekit/UnitTests/TestData/partial/rfc2046.eml python-cpython/msg_35.txt
""".split())
known(R_EMPTY_MULTIPART, "sha256", *"""
enmime/mail/header-only.raw enmime/mail/multipart-wo-boundary.raw
mime4j/core/src/test/resources/mimetools-testmsgs/badbound.msg
mime4j/core/src/test/resources/testmsgs/ending-boundaries.msg
mime4j/core/src/test/resources/testmsgs/missing-boundary.msg
mime4j/core/src/test/resources/testmsgs/missing-inner-boundary.msg
mime4j/core/src/test/resources/testmsgs/missing-inner-start-boundary.msg
mime4j/core/src/test/resources/testmsgs/multipartnopart.msg
mimekit/UnitTests/TestData/messages/empty-multipart.txt
python-cpython/msg_17.txt python-cpython/msg_25.txt python-cpython/msg_31.txt
python-cpython/msg_41.txt python-cpython/msg_42.txt
""".split())


# The fixtures' differences: the hostile ones, and message/delivery-status.
R_UNCLOSED = ("the closing boundary never comes: GMime's last part runs to the end of the message, "
              "Python drops the line break that ends it")
R_MULTI_CTYPE = "two Content-Type fields: GMime takes the last (as doc/VIOLATIONS.md says), Python the first"
R_8BIT = ("8-bit bytes outside encoded words: msgparse decodes them with the fallback charsets, "
          "Python keeps them as undecodable surrogates")
R_BAD_LIST = "a broken address list: the two parsers recover different addresses from it"
R_NESTING = ("nested deeper than the 32 levels msgparse shows: the parts inside are not listed, "
             "Python lists them")
R_UNQUOTED = "an unquoted parameter value with spaces: msgparse reads it whole, Python to the first space"
R_EMPTY_MESSAGE = "an empty message/rfc822 part: GMime has no message inside it, Python an empty text/plain one"


def known_fixture(reason, field, *names):
    known(reason, field, *(f"tests/data/messages/{n}" for n in names), table=KNOWN_FIXTURES)


known_fixture(R_OPAQUE, "types", "delivery-report.eml")
known_fixture(R_DECODE, "sha256", "base64-truncated.eml")
known_fixture(R_EMPTY_MULTIPART, "sha256", "boundary-missing.eml")
known_fixture(R_UNCLOSED, "sha256", "boundary-unclosed.eml")
known_fixture(R_MULTI_CTYPE, "types", "conflicting-content-type.eml")
known_fixture(R_MULTI_FIELD, "from", "duplicate-fields.eml")
known_fixture(R_MULTI_FIELD, "to", "duplicate-fields.eml")
known_fixture(R_8BIT, "subject", "header-8bit-latin1.eml")
known_fixture(R_8BIT, "from", "header-8bit-latin1.eml", "header-8bit-utf8.eml")
known_fixture(R_BAD_LIST, "to", "invalid-address-list.eml")
known_fixture(R_NOSUBTYPE, "types", "invalid-content-type.eml")
known_fixture(R_HEADER_END, "sha256", "invalid-header-name.eml")
known_fixture(R_NESTING, "types", "limit-nesting-depth.eml", "limit-nesting-gmime.eml")
known_fixture(R_UNQUOTED, "filenames", "loose-parameters.eml")
known_fixture(R_EMPTY_MESSAGE, "types", "message-malformed.eml")

def differential(paths, known_table, not_messages):
    """Each message of @paths read by msgparse and by Python's email package:
    the number that agree in every field, and the count of each kind of
    difference; a difference @known_table does not list (or one it lists that
    is gone) fails a case."""
    agree = 0
    seen_diffs = {}
    for p in paths:
        f = rel[p]
        if f in not_messages or "mbox" in os.path.basename(p) or p.endswith(".gz"):
            continue  # (compressed: Python's email reads no gzip)
        r = mp("--json", p)
        if r.returncode != 0:
            t.ok(False, f"{f}: --json exit {r.returncode}", r.stderr.decode(errors="replace"))
            continue
        o = json_lines(r.stdout, f)[0]
        with open(p, "rb") as fh:
            m = email.message_from_bytes(fh.read(), policy=email.policy.default)
        diffs = {}

        def field(name, ours, theirs):
            if ours != theirs:
                diffs[name] = (ours, theirs)

        try:
            subj = m["subject"]
            subj = str(subj) if subj is not None else None
        except Exception:
            subj = None
        field("subject", norm(o["subject"]), norm(subj))
        for h in ("from", "to"):
            try:
                theirs = py_addresses(m[h])
            except Exception:
                theirs = "unparsable"
            field(h, [(a["name"], a["address"]) for a in o[h]], theirs)
        ours = flatten(o["tree"], [])
        theirs = py_parts(m)
        field("types", [x["type"] for x in ours], [x["type"] for x in theirs])
        if "types" not in diffs:
            field("filenames", [x["filename"] for x in ours], [x["filename"] for x in theirs])
            field("sha256", [x.get("sha256") for x in ours], [x.get("sha256") for x in theirs])
        expected = known_table.get(f, {})
        unexpected = {k: v for k, v in diffs.items() if k not in expected}
        gone = [k for k in expected if k not in diffs]
        if unexpected or gone:
            t.ok(False, f"differential {f}",
                 "\n".join([f"{k}: msgparse {v[0]!r}\n{' ' * len(k)}  python   {v[1]!r}"
                            for k, v in unexpected.items()]
                           + [f"listed difference {k} no longer differs: update KNOWN" for k in gone]))
        elif not diffs:
            agree += 1
        for k in diffs:
            seen_diffs[k] = seen_diffs.get(k, 0) + 1
    return agree, seen_diffs


if HAVE_CORPUS:
    agree, seen_diffs = differential(corpus, KNOWN, NOT_MESSAGES)
    t.ok(agree >= 150, f"differential: {agree} messages agree with Python in every field "
                       f"(known differences: {seen_diffs})")
else:
    t.skip("differential: corpus messages agree with Python in every field", CORPUS_MISSING)
agree, seen_diffs = differential(fixture_singles, KNOWN_FIXTURES, FIXTURE_NOT_MESSAGES)
clean = [p for p in fixture_singles if rel[p] not in KNOWN_FIXTURES and not p.endswith(".gz")]
t.ok(agree == len(clean), f"differential: {agree} fixtures agree with Python in every field, every one "
                          f"not listed as different (known differences: {seen_diffs})")
t.ok(all(len(r) > 20 for table in (KNOWN, KNOWN_FIXTURES) for d in table.values() for r in d.values()),
     "every known difference has a reason")

# ---- extraction safety ----
HOSTILE = [
    "../../etc/passwd", "/abs/path.txt", "CON", "con.txt", "a\x01b\x1fc\x7f.bin",
    "x" * 4000 + ".pdf", "report.pdf", "report.pdf", "report.pdf", "..", ".hidden",
    "C:\\Windows\\evil.exe", "nul", "trailing. ", "\u202eexe.txt",
]


def hostile_message():
    parts = []
    for i, name in enumerate(HOSTILE):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; '
                     f'filename="{quoted}"\nContent-Transfer-Encoding: base64\n\n'
                     + __import__("base64").b64encode(f"payload {i}\n".encode()).decode() + "\n")
    parts.append("--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n")
    parts.append("--b\nContent-Type: application/pdf\n\n%PDF-1.4\n")
    parts.append("--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Disposition: attachment;"
                 " filename=latin.txt\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n")
    body = ("From: a@example.org\nTo: b@example.org\nSubject: hostile\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
            "Message-ID: <h@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
            "--b\nContent-Type: text/plain\n\nbody\n" + "".join(parts) + "--b--\n")
    return body.encode("utf-8")


with t.case("--extract: hostile names all land safely inside DIR, unique, nothing overwritten"):
    msg = path("hostile.eml", hostile_message())
    outer = os.path.join(work, "jail")
    d = os.path.join(outer, "out")
    os.makedirs(d)
    path("jail/out/report.pdf", b"already here\n")
    r = mp("--extract", d, msg)
    t.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
    written = utf8(r.stdout, "--extract").splitlines()
    t.check(len(written) == len(HOSTILE) + 3, f"{len(written)} files: {written}")
    t.check(sorted(os.listdir(outer)) == ["out"], f"something left DIR: {os.listdir(outer)}")
    names = os.listdir(d)
    t.check(len(names) == len(HOSTILE) + 4, f"files in DIR: {names}")
    for w in written:
        t.check(os.path.dirname(w) == d, f"{w!r} is not directly in DIR")
        b = os.path.basename(w)
        t.check(b not in (".", "..") and not b.startswith("."), f"name {b!r}")
        t.check(not any(ord(c) < 0x20 or ord(c) == 0x7f for c in b), f"control character in {b!r}")
        t.check(len(b.encode()) <= 200, f"name of {len(b.encode())} bytes")
        t.check("/" not in b and "\\" not in b and ".." not in b, f"name {b!r}")
        t.check(b.split(".")[0].upper() not in ("CON", "NUL", "PRN", "AUX"), f"device name {b!r}")
    with open(os.path.join(d, "report.pdf"), "rb") as f:
        t.check(f.read() == b"already here\n", "an existing file was overwritten")
    for n in ("report (1).pdf", "report (2).pdf", "report (3).pdf"):
        t.check(n in names, f"{n} in {sorted(names)}")
    t.check(any(n.endswith(".pdf") and n.startswith("x" * 100) for n in names), "long name cut, .pdf kept")
    t.check("part-1.17.png" in names and "part-1.18.pdf" in names, f"nameless parts: {sorted(names)}")
    contents = sorted(open(w, "rb").read() for w in written if "payload" in open(w, "rb").read().decode("latin-1"))
    t.check(contents == sorted(f"payload {i}\n".encode() for i in range(len(HOSTILE))), "contents kept")

with t.case("--extract --text-to-utf8 re-encodes text parts; without it bytes are kept"):
    d1, d2 = os.path.join(work, "x-raw"), os.path.join(work, "x-utf8")
    t.check(mp("--extract", d1, msg).returncode == 0, "extract")
    t.check(mp("--extract", d2, "--text-to-utf8", msg).returncode == 0, "extract --text-to-utf8")
    t.check(open(os.path.join(d1, "latin.txt"), "rb").read() == b"caf\xe9", "raw latin-1 kept")
    t.check(open(os.path.join(d2, "latin.txt"), "rb").read() == "café".encode(), "converted to UTF-8")

# ---- conversion: mbox → maildir → mbox ----
FLAGGED_MBOX = b"".join([
    b"From a@example.org Mon Jan  1 10:00:00 2024\n",
    b"From: a@example.org\nSubject: seen answered flagged\nStatus: RO\nX-Status: AF\n\nbody\n>From quoted\n>>From twice\n\n",
    b"From b@example.org Tue Jan  2 10:00:00 2024\n",
    b"From: b@example.org\nSubject: new\n\nno flags\n\n",
    b"From c@example.org Wed Jan  3 10:00:00 2024\n",
    b"From: c@example.org\nSubject: draft deleted\nStatus: O\nX-Status: TD\n\ndraft\n\n",
    b"From d@example.org Thu Jan  4 10:00:00 2024\n",
    b"From: d@example.org\r\nSubject: crlf seen\r\nStatus: RO\r\n\r\ncrlf body\r\n\n",
])


def messages_of(src, sub):
    """Each message of @src as msgparse --to-dir writes it, with its flags from --json."""
    d = os.path.join(work, sub)
    r = mp("--to-dir", d, src)
    t.check(r.returncode == 0, f"--to-dir {src}: {r.stderr!r}")
    files = sorted(os.listdir(d))
    raw = [open(os.path.join(d, f), "rb").read() for f in files]
    flags = [o["source"]["flags"] for o in json_lines(mp("--json", src).stdout, "--json")]
    return raw, flags


with t.case("mbox → maildir → mbox: every message byte-identical, every flag kept"):
    src = path("flags.mbox", FLAGGED_MBOX)
    md = os.path.join(work, "md")
    r = mp("--to-maildir", md, src)
    t.check(r.returncode == 0, f"--to-maildir: {r.stderr!r}")
    names = sorted(os.listdir(os.path.join(md, "cur"))) + sorted(os.listdir(os.path.join(md, "new")))
    suffixes = sorted(n.split(":2,")[1] for n in names if ":2," in n)
    t.check(suffixes == ["DT", "FRS", "S"], f"maildir suffixes {suffixes}")
    t.check(len(os.listdir(os.path.join(md, "new"))) == 1 and not os.listdir(os.path.join(md, "tmp")),
            "unflagged message in new/, tmp/ empty")
    back = path("back.mbox")
    r = mp("--to-mbox", back, md)
    t.check(r.returncode == 0, f"--to-mbox: {r.stderr!r}")
    a, fa = messages_of(src, "dir-a")
    b, fb = messages_of(back, "dir-b")
    t.check(len(a) == 4, f"{len(a)} messages")
    t.check(a == b, "messages differ after the round trip")
    t.check(fa == fb == [["seen", "answered", "flagged"], [], ["deleted", "draft"], ["seen"]],
            f"flags {fa} / {fb}")
    t.check(a[0].endswith(b"body\nFrom quoted\n>From twice\n"), f"mboxrd unquoting: {a[0]!r}")
    t.check(b">From quoted\n>>From twice\n" in open(back, "rb").read(), "mboxrd quoting on write")
    # mbox → mbox keeps each From_ line (sender and date): the same file
    again = path("again.mbox")
    r = mp("--to-mbox", again, src)
    t.check(r.returncode == 0, f"--to-mbox: {r.stderr!r}")
    t.check(open(again, "rb").read() == FLAGGED_MBOX, open(again, "rb").read()[:400])

with t.case("maildir flags → mbox Status/X-Status (replaced only when they disagree)"):
    md2 = os.path.join(work, "md2")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md2, sub))
    path("md2/cur/1.host:2,FS", b"From: x@example.org\nSubject: one\n\nbody\n")
    path("md2/cur/2.host:2,", b"Return-Path: <bounce@example.net>\nFrom: y@example.org\nStatus: RO\n"
         b"X-Status: F\nSubject: two\n\nbody\n")
    out = path("md2.mbox")
    t.check(mp("--to-mbox", out, md2).returncode == 0, "--to-mbox")
    senders = [line.split()[1] for line in open(out, "rb").read().split(b"\n") if line.startswith(b"From ")]
    t.check(senders == [b"MAILER-DAEMON", b"bounce@example.net"], f"From_ senders {senders}")
    msgs, flags = messages_of(out, "dir-md2")
    t.check(flags == [["seen", "flagged"], []], f"flags {flags}")
    t.check(msgs[0] == b"From: x@example.org\nSubject: one\nStatus: RO\nX-Status: F\n\nbody\n", repr(msgs[0]))
    t.check(msgs[1] == b"Return-Path: <bounce@example.net>\nFrom: y@example.org\nSubject: two\nStatus: O\n\nbody\n",
            repr(msgs[1]))

with t.case("--to-dir numbers files, never overwrites; --crlf and --lf convert line ends"):
    d = os.path.join(work, "todir")
    os.makedirs(d)
    path("todir/000001.eml", b"keep")
    t.check(mp("--to-dir", d, src).returncode == 0, "--to-dir")
    t.check(sorted(os.listdir(d)) == [f"00000{i}.eml" for i in range(1, 6)], str(os.listdir(d)))
    t.check(open(os.path.join(d, "000001.eml"), "rb").read() == b"keep", "overwritten")
    c, _ = messages_of(src, "todir-plain")
    d2 = os.path.join(work, "todir-crlf")
    t.check(mp("--to-dir", d2, "--crlf", src).returncode == 0, "--crlf")
    crlf = [open(os.path.join(d2, f), "rb").read() for f in sorted(os.listdir(d2))]
    t.check(crlf == [x.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for x in c], "CRLF everywhere")
    d3 = os.path.join(work, "todir-lf")
    t.check(mp("--to-dir", d3, "--lf", src).returncode == 0, "--lf")
    lf = [open(os.path.join(d3, f), "rb").read() for f in sorted(os.listdir(d3))]
    t.check(lf == [x.replace(b"\r\n", b"\n") for x in c], "LF everywhere")
    t.check(mp("--crlf", src).returncode == EX_USAGE, "--crlf without a conversion is a usage error")

with t.case("conversion output is absent when it cannot be completed"):
    ro = os.path.join(work, "ro-maildir")
    os.makedirs(os.path.join(ro, "tmp"))
    os.makedirs(os.path.join(ro, "new"))
    os.makedirs(os.path.join(ro, "cur"))
    os.chmod(os.path.join(ro, "cur"), 0o500)
    r = mp("--to-maildir", ro, src)
    os.chmod(os.path.join(ro, "cur"), 0o700)
    if os.geteuid() == 0:
        t.check(r.returncode == 0, "root can write anyway")
    else:
        t.check(r.returncode == 73, f"exit {r.returncode}")
        t.check(not os.listdir(os.path.join(ro, "new")) and not os.listdir(os.path.join(ro, "tmp")),
                "partial output left")

# ---- --select, --part ----
with t.case("--select picks messages by position"):
    r = mp("--json", "--select", "2,4-", src)
    subjects = [o["subject"] for o in json_lines(r.stdout, "--select")]
    t.check(subjects == ["new", "crlf seen"], str(subjects))
    t.check([o["source"]["index"] for o in json_lines(r.stdout, "")] == [2, 4], "indexes")
    t.check(mp("--select", "0", src).returncode == EX_USAGE, "position 0 is a usage error")
    t.check(mp("--select", "3-1", src).returncode == EX_USAGE, "a backwards range is a usage error")

with t.case("--part writes one decoded part; an unknown part is a usage error"):
    r = mp("--part", "1.17", msg)
    t.check(r.returncode == 0 and r.stdout == b"\x89PNG\r\n\x1a\n", repr(r.stdout))
    r = mp("--part", "1.19", "--text-to-utf8", msg)
    t.check(r.stdout == "café".encode(), repr(r.stdout))
    r = mp("--part", "9.9", msg)
    t.check(r.returncode == EX_USAGE and b"9.9" in r.stderr, f"exit {r.returncode} {r.stderr!r}")
    t.check(mp("--part", "1", msg).returncode == EX_USAGE, "a multipart has no content of its own")

# ---- --check ----
LINT = ("From: a@example.org\nFrom: b@example.org\nSubject: =?utf-8?Q?broken\n"
        "X-Eight: caf\xe9\nContent-Type: multipart/mixed; boundary=zz\n\n"
        "--zz\nContent-Type: text/plain; charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n\n"
        "!!!notbase64\n--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
        "bad =ZZ qp\n" + "y" * 1200 + "\n").encode("latin-1")
with t.case("--check lists findings with codes, severities and locations"):
    p = path("lint.eml", LINT)
    r = mp("--check", "--fail-on", "none", p)
    t.check(r.returncode == 0, f"exit {r.returncode}")
    found = {}
    for line in utf8(r.stdout, "--check").splitlines():
        m = re.match(r"^(.*?): (info|warning|error) ([A-Z0-9_]+) (.*?): (.+)$", line)
        t.check(m and m.group(1) == p, f"line format: {line!r}")
        found.setdefault(m.group(3), set()).add((m.group(2), m.group(4)))
    want = {"MISSING_DATE": ("error", "header"), "MISSING_MESSAGE_ID": ("warning", "header"),
            "HEADER_DUPLICATE": ("warning", "header From"),
            "ENCODED_WORD_UNCLOSED": ("warning", "header Subject"),
            "HEADER_8BIT": ("warning", "header X-Eight"),
            "CHARSET_UNKNOWN": ("warning", "part 1.1"), "BASE64_INVALID": ("warning", "part 1.1"),
            "QP_INVALID": ("warning", "part 1.2"), "BOUNDARY_UNCLOSED": ("warning", "part 1"),
            "LINE_TOO_LONG": ("warning", "line 17")}
    for code, (sev, loc) in want.items():
        t.check((sev, loc) in found.get(code, set()), f"{code} {sev} {loc}: got {found.get(code)}")
    t.check("MISSING_FROM" not in found, "From is there")

with t.case("--check: CRLF message with bare LF and bare CR, and a clean message"):
    p = path("crlf.eml", b"From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
             b"Message-ID: <x@y>\r\nSubject: s\r\n\r\nline\nbare\rcr\r\n")
    out = mp("--check", "--fail-on", "none", p).stdout.decode()
    t.check("BARE_LF" in out and "BARE_CR" in out, out)
    clean = path("clean.eml", b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                 b"Message-ID: <x@y>\nSubject: s\n\nok\n")
    r = mp("--check", "--fail-on", "info", clean)
    t.check(r.returncode == 0 and r.stdout == b"", f"clean: {r.returncode} {r.stdout!r}")

with t.case("--fail-on decides the exit status"):
    p = path("lint.eml")
    t.check(mp("--check", p).returncode == 1, "error finding, default error level: 1")
    t.check(mp("--check", "--fail-on", "none", p).returncode == 0, "none: 0")
    warn = path("warn.eml", b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: s\n\nx\n")
    t.check(mp("--check", warn).returncode == 0, "only a warning, level error: 0")
    t.check(mp("--check", "--fail-on", "warning", warn).returncode == 1, "warning level: 1")
    t.check(mp("--check", "--fail-on", "bogus", warn).returncode == EX_USAGE, "unknown level: 64")
    t.check(mp("--fail-on", "error", warn).returncode == EX_USAGE, "--fail-on without --check: 64")

# ---- errors ----
with t.case("a missing path is EX_NOINPUT naming it; the other paths are still processed"):
    missing = os.path.join(work, "no-such-file.eml")
    r = mp(missing, warn)
    t.check(r.returncode == EX_NOINPUT, f"exit {r.returncode}")
    t.check(missing.encode() in r.stderr, r.stderr)
    t.check(b"  s" in r.stdout or b" s\n" in r.stdout, f"the other message was summarised: {r.stdout!r}")

with t.case("a file that is no message is EX_DATAERR"):
    p = path("garbage.bin", b"\x00\x01\x02 just some bytes with no header\n")
    r = mp("--json", p)
    t.check(r.returncode == EX_DATAERR, f"exit {r.returncode}")
    t.check(p.encode() in r.stderr, r.stderr)

with t.case("one bad message in an archive is reported, the rest processed"):
    p = path("onebad.mbox", b"From x Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: one\n\n1\n\n"
             b"From x Mon Jan  1 00:00:00 2024\n\n\x00\x01 no header here\n\n"
             b"From x Mon Jan  1 00:00:00 2024\nFrom: c@example.org\nSubject: three\n\n3\n")
    r = mp("--json", p)
    t.check(r.returncode == EX_DATAERR, f"exit {r.returncode}")
    t.check([o["subject"] for o in json_lines(r.stdout, "")] == ["one", "three"], r.stdout)
    t.check(f"{p}#2".encode() in r.stderr, r.stderr)

with t.case("usage errors: two views, --raw without --headers, an unknown fallback charset"):
    t.check(mp("--json", "--tree", warn).returncode == EX_USAGE, "two views")
    t.check(mp("--raw", warn).returncode == EX_USAGE, "--raw alone")
    t.check(mp("--to-mbox", path("u.mbox"), "--to-dir", work, warn).returncode == EX_USAGE, "two outputs")
    t.check(mp("--fallback-charsets", "no-such-cs", warn).returncode == EX_USAGE, "bad charset")

# ---- charsets: every string printed is valid UTF-8 ----
EIGHT = (b"From: J\xf6rg <j@example.org>\nTo: =?iso-8859-1?q?Andr=E9?= <a@example.org>\n"
         b"Subject: =?utf-8?b?" + __import__("base64").b64encode(b"caf\xe9 lying") + b"?= and \xe9t\xe9\n"
         b"X-Raw: \xff\xfe\x80\n"
         b"Content-Type: text/plain; charset=utf-8\n\n"
         b"na\xefve text declared utf-8 but latin-1\n")
with t.case("undeclared 8-bit headers and lying charsets decode through the fallbacks"):
    p = path("eight.eml", EIGHT)
    for view in VIEWS + [["--text"]]:
        r = mp(*view, p)
        utf8(r.stdout, " ".join(view))
    o = json_lines(mp("--json", p).stdout, "")[0]
    t.check(o["from"] == [{"name": "Jörg", "address": "j@example.org"}], str(o["from"]))
    t.check(o["to"] == [{"name": "André", "address": "a@example.org"}], str(o["to"]))
    t.check(o["subject"].endswith("and été"), o["subject"])
    text = mp("--text", p).stdout.decode()
    t.check(text == "naïve text declared utf-8 but latin-1\n", repr(text))
    headers = mp("--headers", p).stdout.decode()
    t.check("X-Raw: ÿþ€" in headers, headers)

with t.case("--fallback-charsets changes how undeclared bytes are read"):
    p = path("koi8.eml", "From: a@example.org\nSubject: Привет\n\n".encode("koi8-r") + "Тест\n".encode("koi8-r"))
    default = json_lines(mp("--json", p).stdout, "")[0]["subject"]
    r = mp("--json", "--fallback-charsets", "koi8-r", p)
    t.check(json_lines(r.stdout, "")[0]["subject"] == "Привет", r.stdout)
    t.check(default != "Привет", "windows-1252 fallback by default")
    t.check(mp("--text", "--fallback-charsets", "koi8-r", p).stdout.decode() == "Тест\n", "body too")
    t.check(mp("--fallback-charsets", "koi8-r", p).stdout.decode().rstrip().endswith("Привет"), "summary too")

with t.case("bytes no charset decodes are replaced and recorded as a defect"):
    p = path("undecodable.eml", b"From: a@example.org\nSubject: s\nContent-Type: text/plain; charset=utf-8\n\n"
             b"bad \x81\x8d\x8f\x90\x9d here\n")
    r = mp("--json", "--fallback-charsets", "UTF-8", p)
    o = json_lines(r.stdout, "")[0]
    t.check(o["tree"]["sha256"] == hashlib.sha256(b"bad \x81\x8d\x8f\x90\x9d here\n").hexdigest(),
            "--json hashes the bytes as sent")
    text = mp("--text", "--fallback-charsets", "UTF-8", p).stdout.decode()
    t.check("\ufffd" in text and text.startswith("bad "), repr(text))
    r = mp("--check", "--fail-on", "none", "--fallback-charsets", "UTF-8", p)
    t.check(b"CHARSET_UNDECODABLE" in r.stdout, r.stdout)

with t.case("paths that are not UTF-8 are printed as valid UTF-8, on stdout and stderr"):
    odd = os.path.join(work.encode(), b"odd\xff\xfename.eml")
    with open(odd, "wb") as f:
        f.write(b"From: a@example.org\nSubject: s\n\nx\n")
    for view in (["--check", "--fail-on", "none"], ["--tree"], ["--json"]):
        r = run([MSGPARSE, *view, odd, odd], env=ENV)
        t.check(r.returncode == 0, f"{view}: exit {r.returncode}")
        utf8(r.stdout, f"{view} stdout")
    r = run([MSGPARSE, odd + b".missing"], env=ENV)
    t.check(r.returncode == EX_NOINPUT, f"exit {r.returncode}")
    t.check("odd\ufffd\ufffdname.eml.missing" in utf8(r.stderr, "stderr"), r.stderr)

with t.case("standard input: a message and an mbox"):
    r = mp("--json", input=open(warn, "rb").read())
    t.check(r.returncode == 0 and json_lines(r.stdout, "")[0]["subject"] == "s", r.stderr)
    r = mp("--json", "-", input=FLAGGED_MBOX)
    t.check(len(json_lines(r.stdout, "")) == 4, r.stdout)

with t.case("Content-Length fields that lie hold no memory: a 97 MB mbox is read in a few MB"):
    # every message claims a body far longer than it has; the true ends are
    # the From_ lines (as a file, where the reader looks ahead by seeking,
    # and the first 64 MB of it on standard input, which cannot seek)
    big = path("liars.mbox")
    line = b"0123456789abcdef" * 4 + b"\n"
    with open(big, "wb") as f:
        f.write(b"From a Mon Jan  5 10:00:00 2015\nSubject: liar\nContent-Length: 4000000000\n\nshort\n\n")
        for i in range(1500):
            f.write(b"From x Mon Jan  5 10:00:00 2015\nSubject: m%d\nContent-Length: 90000000\n\n" % i
                    + line * 1000 + b"\n")
    # ASan keeps freed memory in quarantine: keep that small for the count
    env = dict(os.environ, LC_ALL="C.UTF-8",
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1")
    for args in ([], ["--json"]):
        # peak RSS from /usr/bin/time: a child of this (large) process would
        # count its pages until the exec
        out, rss = path("liars.out"), path("liars.rss")
        with open(out, "wb") as o:
            status = subprocess.run(["/usr/bin/time", "-o", rss, "-f", "%M", MSGPARSE, *args, big],
                                    stdout=o, stderr=subprocess.PIPE, env=env).returncode
        t.check(status == 0, f"{args}: status {status}")
        lines = open(out, "rb").read().splitlines()
        t.check(len(lines) == 1501, f"{args}: {len(lines)} messages")
        peak = int(open(rss).read().split()[-1])
        t.check(peak < 48 * 1024, f"{args}: peak RSS {peak} kB")
    with open(big, "rb") as f:
        head = f.read(64 * 1024 * 1024)
    r = run([MSGPARSE, "-"], input=head, env=env, timeout=600)
    t.check(r.returncode == 0, r.stderr)
    t.check(r.stdout.decode().splitlines()[1].split()[-1] == "m0", r.stdout[:300])

with t.case("-j 4 --extract over a maildir++ tree: the same files, byte for byte, in 10 runs"):
    # every message has attachments of the same names: which one gets
    # "report (1).pdf" must not depend on thread timing
    tree = path("extract-md")
    for folder in ("", ".Archive", ".Lists.dev"):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(tree, folder, sub), exist_ok=True)
    n = 0
    for folder in ("", ".Archive", ".Lists.dev"):
        for i in range(40):
            n += 1
            body = (b"From: a@example.org\nSubject: m%d\nMIME-Version: 1.0\n"
                    b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
                    b"text %d\n--b\nContent-Type: application/pdf; name=report.pdf\n"
                    b"Content-Disposition: attachment; filename=report.pdf\n\n%s\n"
                    b"--b\nContent-Type: text/plain; name=notes.txt\n"
                    b"Content-Disposition: attachment; filename=notes.txt\n\nnotes of %d%s\n--b--\n"
                    % (n, n, b"pdf %d " % n * (1 + n % 50), n, b"x" * (n * 997 % 3000)))
            name = "%d.M%dP1Q%d.host:2,S" % (1700000000 + n, n, n)
            with open(os.path.join(tree, folder, "cur", name), "wb") as f:
                f.write(body)

    def extracted(jobs, k):
        out = path("extract-%s-%d" % (jobs, k))
        r = run([MSGPARSE, "-j", str(jobs), "--extract", out, tree])
        t.check(r.returncode == 0, r.stderr)
        files = {}
        for f in os.listdir(out):
            with open(os.path.join(out, f), "rb") as fh:
                files[f] = hashlib.sha256(fh.read()).hexdigest()
        return files, r.stdout

    want, want_out = extracted(1, 0)
    t.check(len(want) == 2 * n, f"{len(want)} files")
    for k in range(10):
        got, got_out = extracted(4, k)
        t.check(got == want, f"run {k}: files differ from -j 1")
        t.check(got_out.replace(b"extract-4-%d" % k, b"extract-1-0") == want_out,
                f"run {k}: the paths printed differ")

# ---- on a terminal: what a message holds cannot steer it ----
def on_tty(*args):
    """(exit status, what a terminal got) of msgparse ARGS with its standard output a pty."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([MSGPARSE, *args], stdout=slave, stderr=subprocess.PIPE, env=dict(os.environ, **ENV))
    os.close(slave)
    got = read_pty(master)
    p.wait()
    os.close(master)
    return p.returncode, got


hostile = path("hostile.eml", b"From: a@example.org\nSubject: =?utf-8?q?clear=1B[2J=07title?=\n"
                              b"X-Raw: esc\x1b]0;owned\x07 here\nMIME-Version: 1.0\n"
                              b"Content-Type: text/plain; charset=utf-8\n\nline\x1b[31m red\rover\n")
for view in ("--headers", "--text", "--tree", "--check"):
    with t.case(f"{view} on a terminal: no ESC, BEL or CR from the message reaches it"):
        code, got = on_tty(view, hostile)
        t.check(code in (0, 1) and b"\x1b" not in got and b"\x07" not in got
                and b"\r" not in got.replace(b"\r\n", b""), f"exit {code}: {got!r}")
with t.case("--headers piped: the decoded values as they are; --headers --raw on a terminal: the bytes"):
    r = mp("--headers", hostile)
    t.check(b"clear\x1b[2J\x07title" in r.stdout, f"{r.stdout!r}")
    code, got = on_tty("--headers", "--raw", hostile)
    t.check(b"esc\x1b]0;owned\x07 here" in got, f"{got!r}")

# ---- mbox locking: two writers at once, and a mail delivery agent's locks ----
def numbered_mbox(name, tag, n):
    body = "".join(f"From {tag}@example.org Mon Jan  1 00:00:00 2024\nMessage-ID: <{tag}-{i}@x>\n"
                   f"Subject: {tag} {i}\n\n" + f"{tag} line {i}\n" * 20 + "\n" for i in range(n))
    return path(name, body.encode())


def ids_of(mbox):
    r = mp("--json", mbox)
    return [json.loads(x)["message_id"] for x in r.stdout.decode().splitlines()]


with t.case("two --to-mbox at once into one file: both exit 0, every message once and intact"):
    a, b = numbered_mbox("conc-a.mbox", "a", 3000), numbered_mbox("conc-b.mbox", "b", 3000)
    target = work_path(work, "conc.mbox")
    env = dict(os.environ, **ENV)
    ps = [subprocess.Popen([MSGPARSE, "--to-mbox", target, src], env=env, stderr=subprocess.PIPE) for src in (a, b)]
    codes = [p.wait(timeout=300) for p in ps]
    errs = b"".join(p.stderr.read() for p in ps)
    ids = ids_of(target)
    want = sorted([f"a-{i}@x" for i in range(3000)] + [f"b-{i}@x" for i in range(3000)])
    t.check(codes == [0, 0], f"{codes} {errs!r}")
    t.check(sorted(ids) == want, f"{len(ids)} messages, {len(set(ids))} distinct")
    import mailbox
    bodies = {m["Message-ID"]: m.get_payload() for m in mailbox.mbox(target)}
    t.check(all(bodies[f"<{x}-{i}@x>"] == f"{x} line {i}\n" * 20 for x in "ab" for i in range(3000)),
            "every body intact")

def mda(target, mode, *steps):
    """A mail delivery agent on @target: it takes an fcntl lock (and with
    "dotlock" among @steps, TARGET.lock), says so, then does @steps (text
    written, or a pause in seconds); the process, once it holds them."""
    code = ["import fcntl, os, sys, time", f"f = open(sys.argv[1], {mode!r})", "fcntl.lockf(f, fcntl.LOCK_EX)"]
    for step in steps:
        if step == "dotlock":
            code.append("open(sys.argv[1] + '.lock', 'w').write(str(os.getpid()) + '\\n')")
        elif step == "held":
            code.append("print('held', flush=True)")
        elif isinstance(step, float):
            code.append(f"time.sleep({step})")
        else:
            code.append(f"f.write({step!r}); f.flush()")
    if "dotlock" in steps:
        code.append("os.unlink(sys.argv[1] + '.lock')")
    p = subprocess.Popen([sys.executable, "-c", "\n".join(code), target], stdout=subprocess.PIPE)
    p.stdout.readline()
    return p


MDA_FROM = "From mda@example.org Mon Jan  1 00:00:00 2024\n"
with t.case("--to-mbox into one of its inputs: a usage error at once, the file untouched"):
    same = numbered_mbox("same.mbox", "s", 3)
    before = open(same, "rb").read()
    r = mp("--to-mbox", same, same)
    t.check(r.returncode == EX_USAGE and b"both an input and the --to-mbox output" in r.stderr
            and open(same, "rb").read() == before, f"exit {r.returncode}: {r.stderr!r}")

with t.case("an mbox an MDA holds (fcntl and PATH.lock) is written once it lets go"):
    target = work_path(work, "held.mbox", b"")
    holder = mda(target, "r+", "dotlock", "held", 1.5, MDA_FROM + "Subject: mda\n\nmda")
    t0 = time.time()
    r = mp("--to-mbox", target, numbered_mbox("few.mbox", "c", 3))
    took = time.time() - t0
    holder.wait()
    t.check(r.returncode == 0 and took >= 1.0, f"exit {r.returncode} after {took:.1f} s: {r.stderr!r}")
    t.check(ids_of(target)[1:] == ["c-0@x", "c-1@x", "c-2@x"], f"{ids_of(target)}")
    t.check(not os.path.exists(target + ".lock"), "no lock left")

with t.case("reading an mbox an MDA is writing: msgparse waits for its lock, then sees the message whole"):
    target = work_path(work, "being-written.mbox", b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\none\n\n")
    holder = mda(target, "a", MDA_FROM + "Subject: two\n\nhalf", "held", 1.5, " and the rest\n\n")
    t0 = time.time()
    r = mp("--text", target)
    took = time.time() - t0
    holder.wait()
    t.check(r.returncode == 0 and took >= 1.0 and r.stdout.decode().endswith("half and the rest\n"),
            f"exit {r.returncode} after {took:.1f} s: {r.stdout!r}")

# ---- interrupted: the output as it was ----
def interrupted(args, feed):
    """Exit status and stderr of msgparse ARGS reading @feed on stdin, then
    waiting for more when SIGINT comes (the end of the input after it)."""
    import signal
    p = subprocess.Popen([MSGPARSE, *args], env=dict(os.environ, **ENV), stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.stdin.write(feed)
    p.stdin.flush()
    time.sleep(1.0)  # all of it converted: msgparse waits for more
    p.send_signal(signal.SIGINT)
    time.sleep(0.2)
    p.stdin.close()
    return p.wait(timeout=60), p.stderr.read()


feed = open(numbered_mbox("feed.mbox", "feed", 2000), "rb").read()
with t.case("SIGINT during --to-mbox: exit 130, the mbox byte for byte as before, no lock left"):
    target = work_path(work, "kept.mbox", b"From old@example.org Mon Jan  1 00:00:00 2024\nSubject: old\n\nold\n\n")
    before = open(target, "rb").read()
    code, err = interrupted(["--to-mbox", target, "-"], feed)
    t.check(code == 130 and b"interrupted" in err, f"exit {code}: {err!r}")
    t.check(open(target, "rb").read() == before and not os.path.exists(target + ".lock"),
            f"{os.path.getsize(target)} bytes, was {len(before)}")
with t.case("SIGINT during --to-dir: exit 130, no file written"):
    d = work_path(work, "interrupted-dir")
    code, err = interrupted(["--to-dir", d, "-"], feed)
    t.check(code == 130 and (not os.path.exists(d) or os.listdir(d) == []), f"exit {code}: {err!r}")

# ---- extraction at scale and on a full disk ----
def attachments_mbox(name, messages, per, size=10):
    out = []
    for m in range(messages):
        parts = "".join(f"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n"
                        f"Content-Transfer-Encoding: base64\n\n{'QUJD' * size}\n" for _ in range(per))
        out.append(f"From x@example.org Mon Jan  1 00:00:00 2024\nFrom: x@example.org\nSubject: m{m}\n"
                   f"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
                   f"Content-Type: text/plain\n\nbody\n{parts}--b--\n\n")
    return path(name, "".join(out).encode())


with t.case("--extract of 5,000 attachments all named a.pdf: linear, each under its own name, every path printed"):
    d = work_path(work, "many-same")
    t0 = time.time()
    r = mp("--extract", d, attachments_mbox("same.mbox", 50, 100))
    took = time.time() - t0
    paths = r.stdout.decode().splitlines()
    t.check(r.returncode == 0 and len(paths) == 5000 and len(set(paths)) == 5000, f"exit {r.returncode}, {len(paths)}")
    t.check(os.path.exists(os.path.join(d, "a (4999).pdf")) and took < 60, f"{took:.1f} s")

with t.case("--extract on a full disk: exit 74, no file cut short under its name"):
    import resource
    import signal as sig

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
        sig.signal(sig.SIGXFSZ, sig.SIG_IGN)
    d = work_path(work, "full-extract")
    os.makedirs(d)
    src = attachments_mbox("big-att.mbox", 1, 3, size=2000)
    p = subprocess.run([MSGPARSE, "--extract", d, src], env=dict(os.environ, **ENV), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, preexec_fn=small_disk, timeout=60)
    left = sorted(os.listdir(d))
    sizes = [os.path.getsize(os.path.join(d, x)) for x in left]
    t.check(p.returncode == 74 and b"cannot write" in p.stderr, f"exit {p.returncode}: {p.stderr!r}")
    t.check(left == [], f"left {left} {sizes}")

with t.case("a 3 MB subject: the summary line cut to 500 characters, with an ellipsis"):
    r = mp(path("long-subject.eml", b"From: a@example.org\nSubject: " + b"x" * 3_000_000 + b"\n\nbody\n"))
    line = r.stdout.decode()
    t.check(r.returncode == 0 and line.rstrip("\n").endswith("x" * 499 + "…") and len(line) < 600, f"{len(line)}")

# ---- every archive layout (msgtk-archives(5)) ----
LAYOUTS = write_layouts(os.path.join(work, "layouts"))


def subject_of(data):
    return re.search(rb"^Subject: (.*)$", data, re.M).group(1).decode()


for name in ("mutt", "thunderbird", "apple", "mh"):
    lay = LAYOUTS[name]
    with t.case(f"{name}'s tree: every message, in order, with its folder and flags; nothing named"):
        r = mp("--json", lay.path)
        t.check(r.returncode == 0 and r.stderr == b"", f"exit {r.returncode}: {r.stderr!r}")
        got = [(o["source"]["folder"], o["subject"], sorted(o["source"]["flags"]))
               for o in json_lines(r.stdout, name)]
        want = [(f, subject_of(m), sorted(x[1:].lower() for x in fl)) for f, m, fl in lay.messages()]
        t.check(got == want, f"{got} != {want}")
        r = mp("--to-dir", os.path.join(work, f"layout-{name}"), lay.path)
        out = os.path.join(work, f"layout-{name}")
        copies = [open(os.path.join(out, f), "rb").read() for f in sorted(os.listdir(out))]
        t.check(r.returncode == 0 and copies == [m for _, m, _ in lay.messages()],
                "--to-dir: the messages byte for byte")

with t.case("what is not mail in a tree is named with what it is, the rest is read; exit 65"):
    lay = LAYOUTS["not-mail"]
    for view in ([], ["--json"]):
        r = mp(*view, lay.path)
        t.check(r.returncode == EX_DATAERR, f"{view}: exit {r.returncode}")
        t.check(utf8(r.stderr, "stderr").splitlines() == [f"msgparse: {e}" for e in lay.errors],
                r.stderr.decode())
        t.check(len(r.stdout.splitlines()) == 1 and b"kept" in r.stdout, r.stdout)
    r = mp(LAYOUTS["nothing"].path)
    t.check(r.returncode == EX_DATAERR and r.stdout == b"", f"exit {r.returncode}: {r.stdout!r}")
    t.check(utf8(r.stderr, "stderr").splitlines() == [f"msgparse: {e}" for e in LAYOUTS["nothing"].errors],
            r.stderr.decode())
    gone = os.path.join(work, "layouts", "link")
    os.symlink("nowhere", gone)
    r = mp(LAYOUTS["mutt"].path, os.path.dirname(gone))
    t.check(r.returncode == EX_NOINPUT and f"msgparse: {gone}: dangling symbolic link (to nowhere)"
            in r.stderr.decode(), f"exit {r.returncode}: {r.stderr!r}")

with t.case("a gzip, an xz file given alone and on standard input: read as they are decompressed"):
    box = b"".join(b"From a Mon Jan  1 00:00:00 2024\nSubject: m%d\n\nbody\n\n" % i for i in range(500))
    gz = path("box.mbox.gz", gzip.compress(box))
    r = mp(gz)
    t.check(r.returncode == 0 and len(r.stdout.splitlines()) == 500, f"exit {r.returncode}: {r.stderr!r}")
    r = mp("-", input=lzma.compress(box))
    t.check(r.returncode == 0 and len(r.stdout.splitlines()) == 500, f"exit {r.returncode}: {r.stderr!r}")
    r = mp(path("cut.gz", gzip.compress(box)[:-100]))
    t.check(r.returncode == EX_DATAERR and b"gzip data that cannot be read" in r.stderr, r.stderr)

shutil.rmtree(work, ignore_errors=True)
t.done()
