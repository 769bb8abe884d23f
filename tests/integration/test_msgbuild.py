"""msgbuild round trip: messages built by msgbuild are parsed back by GMime
(through GObject introspection) and by Python's email package (policy=default)
as independent oracles; error paths check exit codes and leftover files."""
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, tool, run, work_path, SOURCE_DIR  # noqa: E402

import gi  # noqa: E402
gi.require_version("GMime", "3.0")
from gi.repository import GMime  # noqa: E402

GMime.init()
MSGBUILD = tool("msgbuild")
EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66
t = Tap()
work = tempfile.mkdtemp(prefix="msgbuild-test-")
ENV = {"LC_ALL": "C.UTF-8", "SOURCE_DATE_EPOCH": ""}


def path(name, data=None):
    return work_path(work, name, data)


def build(*args, env=None, input=None):
    e = dict(ENV)
    e.update(env or {})
    if "SOURCE_DATE_EPOCH" in e and e["SOURCE_DATE_EPOCH"] == "":
        del e["SOURCE_DATE_EPOCH"]
    full = dict(os.environ)
    full.pop("SOURCE_DATE_EPOCH", None)
    full.update(e)
    import subprocess
    return subprocess.run([MSGBUILD, *args], input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=full, timeout=120)


def ok_build(*args, **kw):
    r = build(*args, **kw)
    t.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def py_parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def gmime_parse(raw):
    stream = GMime.StreamMem.new_with_buffer(raw)
    parser = GMime.Parser.new_with_stream(stream)
    return parser.construct_message(None)


def check_lines(raw):
    """No line over 78 in headers, none over 998 anywhere, encoded words ≤ 75."""
    head = raw.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        t.check(len(line) <= 78, f"header line of {len(line)} chars: {line[:100]!r}")
    for w in re.findall(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=", raw):
        t.check(len(w) <= 75, f"encoded word of {len(w)} chars: {w!r}")
    for line in raw.split(b"\n"):
        t.check(len(line) <= 998, "line over 998 octets")
    t.check(all(b < 128 for b in head), "8-bit byte in the header")


SCRIPTS = {
    "Latin": ("Ünïcödé façade — déjà vu", "Zoë Ångström"),
    "Cyrillic": ("Привет, мир! Отчёт за неделю", "Иван Петров"),
    "Greek": ("Γειά σου Κόσμε — αναφορά", "Αλέξανδρος Παπαδόπουλος"),
    "Hebrew": ("שלום עולם – דוח שבועי", "דוד כהן"),
    "Arabic": ("مرحبا بالعالم — تقرير", "محمد علي"),
    "CJK": ("你好，世界 — 週報 こんにちは 안녕하세요", "山田太郎"),
    "emoji": ("Release 🚀 shipped 🎉 all green ✅", "Emoji 😀 Person"),
}

text = path("body.txt", "Hello,\nthis is the body — with UTF-8 ✓.\n")

for script, (subject, name) in SCRIPTS.items():
    with t.case(f"round trip: subject and names in {script}"):
        raw = ok_build("--from", f"{name} <from@example.org>",
                       "--to", f"{name} <to@example.net>, plain@example.com",
                       "--cc", f'"{name}, Jr." <cc@example.org>',
                       "--subject", subject, "--text", text,
                       "-H", f"X-Comment: {subject}")
        check_lines(raw)
        m = py_parse(raw)
        t.check(str(m["subject"]) == subject, f"python subject {m['subject']!r}")
        t.check(str(m["x-comment"]) == subject, f"python X-Comment {m['x-comment']!r}")
        to = m["to"].addresses
        t.check(len(to) == 2 and to[0].display_name == name and to[0].addr_spec == "to@example.net",
                f"python To {to!r}")
        t.check(m["cc"].addresses[0].display_name == f"{name}, Jr.", f"python Cc {m['cc']!r}")
        t.check(m["from"].addresses[0].display_name == name, "python From")
        t.check(m.get_content() == "Hello,\nthis is the body — with UTF-8 ✓.\n", "python body")
        g = gmime_parse(raw)
        t.check(g.get_subject() == subject, f"gmime subject {g.get_subject()!r}")
        gfrom = g.get_from().get_address(0)
        t.check(gfrom.get_name() == name and gfrom.get_addr() == "from@example.org",
                "gmime From")
        t.check(m["mime-version"] == "1.0", "MIME-Version")

with t.case("long subject folds at 78 with encoded words ≤ 75, no split characters"):
    subject = ("Ежемесячный отчёт о производительности системы сборки — " * 3
               + "日本語のテキストも含む長い件名です 😀" * 2)
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--subject", subject,
                   "--text", text)
    check_lines(raw)
    t.check(raw.count(b"\nSubject:") + raw.startswith(b"Subject:") == 1, "one Subject")
    # Every encoded word must decode on its own (no multibyte character split).
    for w in re.findall(rb"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=", raw):
        cs, enc, data = w[0].decode(), w[1].decode().upper(), w[2]
        import base64
        import quopri
        blob = base64.b64decode(data) if enc == "B" else quopri.decodestring(data.replace(b"_", b" "), header=True)
        blob.decode(cs)  # raises on a split character
    t.check(str(py_parse(raw)["subject"]) == subject, "python decodes the long subject")
    t.check(gmime_parse(raw).get_subject() == subject, "gmime decodes the long subject")

with t.case("named charset is used for subject and body"):
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--subject", "Déjà vu",
                   "--text", text, "--charset", "utf-8")
    m = py_parse(raw)
    t.check(str(m["subject"]) == "Déjà vu", "subject")
    t.check(b"=?utf-8?" in raw.lower(), "utf-8 encoded word")
    t.check(m.get_content_charset() == "utf-8", "body charset")

with t.case("ASCII body is 7bit us-ascii; non-ASCII picks the smallest charset"):
    a = path("ascii.txt", "plain ascii\n")
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", a)
    m = py_parse(raw)
    t.check(m.get_content_charset() == "us-ascii", f"charset {m.get_content_charset()}")
    t.check(m["content-transfer-encoding"] in (None, "7bit"), m["content-transfer-encoding"])
    l1 = path("latin1.txt", "café au lait\n")
    m = py_parse(ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", l1))
    t.check(m.get_content_charset() in ("iso-8859-1", "iso-8859-15"), m.get_content_charset())
    t.check(m["content-transfer-encoding"] == "quoted-printable", m["content-transfer-encoding"])
    t.check(m.get_content() == "café au lait\n", "decoded body")

with t.case("input charset: ISO-8859-1 body file converted; CRLF input made canonical"):
    f = path("in-latin1.txt", "na\xefve r\xe9sum\xe9\r\nline two\r\n".encode("latin-1"))
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", f,
                   "--input-charset", "ISO-8859-1")
    t.check(b"\r" not in raw, "no CR in LF output")
    t.check(py_parse(raw).get_content() == "naïve résumé\nline two\n", "decoded")
    crlf = ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", f,
                    "--input-charset", "ISO-8859-1", "--crlf")
    t.check(re.search(rb"[^\r]\n", crlf) is None, "every line ends in CRLF with --crlf")

with t.case("long lines: never over 998 octets, encoding chosen to fit"):
    longf = path("long.txt", ("x" * 2000 + "\n") * 3)
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", longf)
    check_lines(raw)
    m = py_parse(raw)
    t.check(m["content-transfer-encoding"] in ("quoted-printable", "base64"), "not 7bit")
    t.check(m.get_content() == ("x" * 2000 + "\n") * 3, "content intact")

binary = os.urandom(70000)
binf = path("data.bin", binary)
png = path("logo.png", b"\x89PNG\r\n\x1a\n" + os.urandom(300))
names = ["report with spaces.pdf", 'quote "this" one.txt', "отчёт за 2025.csv",
         "日本語ファイル名.txt", "emoji 😀 name.bin"]

for enc in ("rfc2231", "rfc2047"):
    with t.case(f"attachments: filenames ({enc}), types, bytes by SHA-256"):
        args = ["--from", "a@example.org", "--to", "b@example.org", "--subject", "files",
                "--text", text, "--filename-encoding", enc]
        for n in names:
            args += ["--attach", binf, "--attach-name", n]
        args += ["--attach", binf, "--attach-type", "application/x-custom"]
        raw = ok_build(*args)
        check_lines(raw)
        m = py_parse(raw)
        t.check(m.get_content_type() == "multipart/mixed", m.get_content_type())
        atts = list(m.iter_attachments())
        t.check([a.get_filename() for a in atts] == names + ["data.bin"],
                f"python names {[a.get_filename() for a in atts]}")
        for a in atts:
            t.check(hashlib.sha256(a.get_payload(decode=True)).hexdigest() == hashlib.sha256(binary).hexdigest(),
                    f"bytes of {a.get_filename()}")
        t.check(atts[-1].get_content_type() == "application/x-custom", "given type")
        t.check(atts[0].get_content_type() == "application/pdf", f"guessed {atts[0].get_content_type()}")
        g = gmime_parse(raw)
        mp = g.get_mime_part()
        gnames = [mp.get_part(i).get_filename() for i in range(1, mp.get_count())]
        t.check(gnames == names + ["data.bin"], f"gmime names {gnames}")
        if enc == "rfc2047":
            t.check(b'filename="=?' in raw, "RFC 2047 in parameter")
        else:
            t.check(b"filename*=" in raw, "RFC 2231 parameter")

with t.case("text + html + inline image: mixed > related > alternative, cid"):
    html = path("body.html", '<p>Hi <img src="cid:logo@x"></p>\n')
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--subject", "html",
                   "--text", text, "--html", html, "--attach", png, "--cid", "logo@x",
                   "--attach", binf)
    m = py_parse(raw)
    tree = [(p.get_content_type()) for p in m.walk()]
    t.check(tree == ["multipart/mixed", "multipart/related", "multipart/alternative",
                     "text/plain", "text/html", "image/png", "application/octet-stream"],
            f"structure {tree}")
    img = [p for p in m.walk() if p.get_content_type() == "image/png"][0]
    t.check(img["content-id"] == "<logo@x>", f"content-id {img['content-id']}")
    t.check(img.get_content_disposition() == "inline", "inline")
    t.check(m.get_body(("html",)).get_content() == '<p>Hi <img src="cid:logo@x"></p>\n', "html")

with t.case("Bcc dropped by default, kept with --keep-bcc; In-Reply-To/References/Date"):
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--bcc", "c@example.org",
                   "--text", text)
    t.check(py_parse(raw)["bcc"] is None, "no Bcc")
    raw = ok_build("--from", "a@example.org", "--to", "b@example.org", "--bcc", "c@example.org",
                   "--keep-bcc", "--in-reply-to", "<x@y>", "--references", "a@b <x@y>",
                   "--date", "2025-07-01T10:00:00Z", "--message-id", "<fixed@example.org>",
                   "--reply-to", "r@example.org", "--sender", "s@example.org", "--text", text)
    m = py_parse(raw)
    t.check(m["bcc"].addresses[0].addr_spec == "c@example.org", "Bcc kept")
    t.check(m["in-reply-to"] == "<x@y>", m["in-reply-to"])
    t.check(m["references"] == "<a@b> <x@y>", m["references"])
    t.check(m["message-id"] == "<fixed@example.org>", m["message-id"])
    t.check(m["date"].datetime.isoformat() == "2025-07-01T10:00:00+00:00", str(m["date"]))
    t.check(m["reply-to"].addresses[0].addr_spec == "r@example.org", "reply-to")
    t.check(m["sender"].addresses[0].addr_spec == "s@example.org", "sender")

with t.case("SOURCE_DATE_EPOCH: byte-identical runs; without it Message-ID differs"):
    args = ["--from", "Zoë <a@example.org>", "--to", "b@example.org", "--subject", "repro ✓",
            "--text", text, "--html", html, "--attach", binf, "--attach", png, "--cid", "l@x"]
    r1 = ok_build(*args, env={"SOURCE_DATE_EPOCH": "1700000000"})
    r2 = ok_build(*args, env={"SOURCE_DATE_EPOCH": "1700000000"})
    t.check(r1 == r2, "identical bytes")
    t.check(py_parse(r1)["date"].datetime.timestamp() == 1700000000, "Date from the epoch")
    r3 = ok_build(*args, "--reproducible")
    r4 = ok_build(*args, "--reproducible")
    t.check(r3 == r4, "--reproducible identical")
    n1 = ok_build(*args)
    n2 = ok_build(*args)
    t.check(py_parse(n1)["message-id"] != py_parse(n2)["message-id"], "Message-ID differs")
    t.check(py_parse(n1)["message-id"].endswith("@example.org>"), "domain from From")
    d = ok_build(*args, "--message-id-domain", "ids.example.com")
    t.check(py_parse(d)["message-id"].endswith("@ids.example.com>"), "--message-id-domain")

with t.case("JSON draft and JSON Lines mail merge into maildir, mbox, outdir"):
    draft = {"from": "Zoë <a@example.org>", "to": ["Ïvan <i@example.ru>"], "subject": "Тест",
             "text": "body ✓\n", "html": "<p>body</p>\n", "headers": {"X-Campaign": "q3"},
             "attachments": [{"path": "data.bin", "name": "données.bin"}]}
    dj = path("draft.json", json.dumps(draft, ensure_ascii=False, indent=2))
    m = py_parse(ok_build("--draft", dj))
    t.check(str(m["subject"]) == "Тест" and m["x-campaign"] == "q3", "draft headers")
    t.check([a.get_filename() for a in m.iter_attachments()] == ["données.bin"], "draft attachment")
    lines = "\n".join(json.dumps({"from": "a@example.org", "to": f"u{i}@example.org",
                                  "subject": f"Привет {i}", "text": f"Hi {i}\n"},
                                 ensure_ascii=False) for i in range(5)) + "\n"
    jl = path("merge.jsonl", lines)
    md = path("Maildir")
    ok_build("--draft", jl, "--maildir", md)
    files = sorted(os.listdir(os.path.join(md, "new")))
    t.check(len(files) == 5, f"{len(files)} in new/")
    subs = sorted(str(py_parse(open(os.path.join(md, "new", f), "rb").read())["subject"]) for f in files)
    t.check(subs == sorted(f"Привет {i}" for i in range(5)), f"subjects {subs}")
    mb = path("out.mbox")
    ok_build("--draft", jl, "--mbox", mb)
    import mailbox
    box = mailbox.mbox(mb)
    t.check(len(box) == 5, f"mbox holds {len(box)}")
    od = path("outdir")
    ok_build("--draft", jl, "--outdir", od)
    t.check(sorted(os.listdir(od)) == [f"{i:06d}.eml" for i in range(1, 6)], "outdir files")
    r = build("--draft", jl)
    t.check(r.returncode == EX_USAGE, "many drafts to stdout is a usage error")
    one = dict(draft)
    del one["attachments"]
    m = py_parse(ok_build("--draft", "-", input=json.dumps(one).encode()))
    t.check(str(m["subject"]) == "Тест", "draft from stdin")

with t.case("-o writes atomically: result present, no temp files"):
    out = path("o.eml")
    ok_build("--from", "a@example.org", "--to", "b@example.org", "--text", text, "-o", out)
    t.check(os.path.exists(out), "output present")
    t.check(not [f for f in os.listdir(work) if f.startswith(".o.eml")], "no temp left")

# ---- error paths: exit code and nothing left behind ----
ERRORS = [
    ("header injection in subject", ["--subject", "hi\r\nBcc: evil@x"], EX_DATAERR, "subject"),
    ("header injection in --header", ["-H", "X-A: b\nX-Evil: 1"], EX_DATAERR, "X-A"),
    ("LF in a display name", ["--cc", "Evil\n <e@x.org>"], EX_DATAERR, "cc"),
    ("invalid header name", ["-H", "Bad Name: v"], EX_DATAERR, "Bad Name"),
    ("MIME header refused", ["-H", "Content-Type: text/html"], EX_DATAERR, "Content-Type"),
    ("invalid address", ["--cc", "ok@example.org, broken@"], EX_DATAERR, "broken@"),
    ("address without domain", ["--cc", "nodomain"], EX_DATAERR, "nodomain"),
    ("missing attachment", ["--attach", "/nonexistent/file.pdf"], EX_NOINPUT, "/nonexistent/file.pdf"),
    ("missing text file", ["--text", "/nonexistent/body.txt"], EX_NOINPUT, "/nonexistent/body.txt"),
    ("unknown charset", ["--charset", "no-such-charset"], EX_DATAERR, "no-such-charset"),
    ("unknown input charset", ["--input-charset", "bogus-cs"], EX_DATAERR, "bogus-cs"),
    ("charset cannot hold the subject", ["--charset", "iso-8859-1", "--subject", "Привет"],
     EX_DATAERR, "iso-8859-1"),
    ("bad date", ["--date", "yesterday-ish"], EX_DATAERR, "yesterday-ish"),
    ("bad message id", ["--message-id", "no-at-sign"], EX_DATAERR, "no-at-sign"),
    ("bad filename encoding", ["--filename-encoding", "rfc822"], EX_USAGE, "rfc822"),
    ("--cid before --attach", ["--cid", "x"], EX_USAGE, "--attach"),
    ("unknown option", ["--no-such-option"], EX_USAGE, "no-such-option"),
]
bad_utf8 = path("bad.txt", b"caf\xe9 ok\n")
ERRORS.append(("body invalid in declared charset", ["--text", bad_utf8], EX_DATAERR, "UTF-8"))
ERRORS.append(("draft with unknown key", ["--draft", path("bad.json", '{"form": "a@b.c"}')],
               EX_DATAERR, "form"))
ERRORS.append(("draft line with bad JSON", ["--draft", path("bad.jsonl", '{"from":"a@b.c"}\n{oops\n')],
               EX_DATAERR, "line 2"))
ERRORS.append(("draft string with \\u0000", ["--draft", path("nul.json", '{"from":"a@b.c","to":"d@e.f",'
                                                               '"subject":"cut\\u0000here"}')],
               EX_DATAERR, "NUL character"))
ERRORS.append(("ESC in a subject", ["--subject", "title\x1b]0;owned\x07"], EX_DATAERR, "control character (0x1B)"))
ERRORS.append(("BEL in a header", ["-H", "X-Note: ring\x07"], EX_DATAERR, "X-Note: value holds a control"))
ERRORS.append(("-H From beside --from", ["-H", "From: evil@example.com"], EX_USAGE, "From: given twice"))
ERRORS.append(("missing draft", ["--draft", "/nonexistent/d.json"], EX_NOINPUT, "/nonexistent/d.json"))

for name, extra, code, mention in ERRORS:
    for kind in ("-o", "--mbox", "--maildir", "--outdir"):
        if kind != "-o" and name not in ("invalid address", "missing attachment", "header injection in subject"):
            continue
        with t.case(f"error: {name} ({kind}) → exit {code}, nothing left"):
            outdir = tempfile.mkdtemp(dir=work)
            target = os.path.join(outdir, "out")
            base = ["--from", "a@example.org", "--to", "b@example.org", "--text", text]
            if extra and extra[0] == "--draft":
                base = []
            r = build(*base, *extra, kind, target)
            t.check(r.returncode == code, f"exit {r.returncode}, stderr {r.stderr!r}")
            t.check(mention.encode() in r.stderr, f"stderr names {mention!r}: {r.stderr!r}")
            left = [os.path.join(dp, f) for dp, _, fs in os.walk(outdir) for f in fs]
            t.check(left == [], f"left behind: {left}")

with t.case("error in the 3rd of 4 JSON Lines drafts leaves the maildir and mbox unchanged"):
    lines = [json.dumps({"from": "a@example.org", "to": "b@example.org", "subject": str(i)})
             for i in range(4)]
    lines[2] = json.dumps({"from": "a@example.org", "to": "b@example.org",
                           "attachments": [{"path": "/nonexistent/x"}]})
    jl = path("bad-merge.jsonl", "\n".join(lines) + "\n")
    md = path("Maildir2")
    r = build("--draft", jl, "--maildir", md)
    t.check(r.returncode == EX_NOINPUT, f"exit {r.returncode}")
    t.check("line 3" in r.stderr.decode(), f"names the draft: {r.stderr!r}")
    left = [f for dp, _, fs in os.walk(md) for f in fs] if os.path.exists(md) else []
    t.check(left == [], f"left {left}")
    # drafts 2.. are built in parallel into a maildir: the first bad one is named
    bad = json.dumps({"from": "a@example.org", "to": "bad@", "subject": "x"})
    jl = path("bad-merge-many.jsonl", "\n".join(lines[:2] + [bad] * 50) + "\n")
    r = build("--draft", jl, "--maildir", md)
    t.check(r.returncode == EX_DATAERR and "draft 3 of 52" in r.stderr.decode(),
            f"exit {r.returncode}: {r.stderr!r}")
    left = [f for dp, _, fs in os.walk(md) for f in fs] if os.path.exists(md) else []
    t.check(left == [], f"left {left}")
    mb = path("keep.mbox", "From x@y Mon Jan  1 00:00:00 2024\nSubject: old\n\nold\n\n")
    before = open(mb, "rb").read()
    lines[2] = json.dumps({"from": "a@example.org", "to": "bad@", "subject": "x"})
    jl = path("bad-merge2.jsonl", "\n".join(lines) + "\n")
    r = build("--draft", jl, "--mbox", mb)
    t.check(r.returncode == EX_DATAERR, f"exit {r.returncode}")
    t.check(open(mb, "rb").read() == before, "mbox unchanged")

# ---- interrupted: nothing written ----
def interrupted(args, after=0.3):
    import signal
    p = subprocess.Popen([MSGBUILD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(after)
    if p.poll() is not None:
        return None, p.stderr.read()
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=60), p.stderr.read()


with t.case("SIGTERM during -o of a large message: exit 143, no output, no temporary file"):
    d = tempfile.mkdtemp(dir=work)
    blob = os.path.join(d, "blob.bin")
    with open(blob, "wb") as f:
        f.write(os.urandom(1 << 20) * 200)
    out = os.path.join(d, "out", "big.eml")
    os.makedirs(os.path.dirname(out))
    code, err = interrupted(["--from", "a@example.org", "--to", "b@example.org", "--attach", blob, "-o", out])
    t.check(code == 143 and b"interrupted" in err, f"exit {code}: {err!r}")
    t.check(os.listdir(os.path.dirname(out)) == [], f"left {os.listdir(os.path.dirname(out))}")
with t.case("SIGTERM during a mail merge into an mbox and into a directory: as before"):
    lines = [json.dumps({"from": "a@example.org", "to": f"r{i}@example.org", "subject": f"merge {i}", "text": "hi"})
             for i in range(30000)]
    jl = path("many.jsonl", "\n".join(lines) + "\n")
    mb = path("merge-kept.mbox", "From x@y Mon Jan  1 00:00:00 2024\nSubject: old\n\nold\n\n")
    before = open(mb, "rb").read()
    code, err = interrupted(["--draft", jl, "--mbox", mb], after=0.8)
    t.check(code == 143 and open(mb, "rb").read() == before, f"exit {code}: {err!r}")
    od = os.path.join(work, "merge-out")
    code, err = interrupted(["--draft", jl, "--outdir", od], after=0.8)
    t.check(code == 143 and (not os.path.exists(od) or os.listdir(od) == []), f"exit {code}: {err!r}")

t.done()
