#!/usr/bin/env python3
"""Every public symbol of libmsgtk carries a gtk-doc / gi-docgen comment block.

The public headers (include/msgtk/*.h) are parsed for what they declare:
functions, types (enums, structs, opaque structs, callbacks), macros, enum
values and struct members. Each function, type and macro needs a "/**" block
whose first line is "NAME:"; each enum value and struct member an "@NAME:"
line in its type's block; each parameter (of functions and callbacks) an
"@NAME:" line in their block, and each function that returns something a
"Returns:" line. Each header opens with a SECTION block (doc/gen-overview.py
makes the reference's Modules page of them). One case per header says what
is missing; one checks the parse against what libmsgtk.so exports, so that
a declaration the parser does not understand cannot pass unnoticed.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from tap import BUILD_DIR, SOURCE_DIR, Tap  # noqa: E402

HEADERS = os.path.join(SOURCE_DIR, "include", "msgtk")
BLOCK = re.compile(r"/\*\*(.*?)\*/", re.S)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
IDENT = re.compile(r"[A-Za-z_]\w*")
# GLib's declaration wrappers: no symbols of libmsgtk
WRAPPERS = re.compile(r"\bG_(BEGIN|END)_DECLS\b|\bG_DEFINE_AUTOPTR_CLEANUP_FUNC\s*\([^)]*\)")


def doc_blocks(text):
    """{name: set of the @tags of its block, plus "Returns" when it has one}
    for every /** block whose first line is "NAME:", and the SECTION names."""
    blocks, sections = {}, []
    for m in BLOCK.finditer(text):
        lines = [re.sub(r"^\s*\*\s?", "", l).rstrip() for l in m.group(1).strip("\n").splitlines()]
        if not lines:
            continue
        first = lines[0].strip()
        if first.startswith("SECTION:"):
            sections.append(first[len("SECTION:"):].strip())
            continue
        head = re.fullmatch(r"([A-Za-z_]\w*):(\s.*)?", first)
        if head is None:
            continue
        tags = set()
        for l in lines[1:]:
            t = re.match(r"@(\w+):", l.strip())
            if t:
                tags.add(t.group(1))
            elif re.match(r"Returns:", l.strip()):
                tags.add("Returns")
        blocks[head.group(1)] = tags
    return blocks, sections


def split_top(text, sep):
    """@text split at @sep outside (), [] and {}."""
    parts, depth, cur = [], 0, []
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def declarator_name(decl):
    """The name a C declarator declares: "(*name) (args)" or the last word."""
    fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
    if fp:
        return fp.group(1)
    decl = re.sub(r"\[[^\]]*\]", "", decl)
    words = IDENT.findall(decl)
    return words[-1] if words else None


def params(arglist):
    """Parameter names of a C parameter list ("void": none)."""
    args = split_top(arglist, ",")
    if args == ["void"]:
        return []
    return [declarator_name(a) for a in args if a != "..."]


def declarations(text):
    """What a header declares: [(kind, name, [(what, sub-name)], returns)],
    kind one of function, callback, enum, struct, type, macro; what is
    "value", "member" or "param"."""
    out = []
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)", text, re.M):
        out.append(("macro", m.group(1), [], False))
    code = COMMENT.sub(" ", text)
    code = "\n".join(l for l in code.splitlines() if not l.lstrip().startswith("#"))
    code = WRAPPERS.sub(" ", code)
    for stmt in split_top(code, ";"):
        s = " ".join(stmt.split())
        m = re.fullmatch(r"typedef (enum|struct) ?\w* ?\{(.*)\} ?(\w+)", s)
        if m:
            kind, body, name = m.groups()
            if kind == "enum":
                subs = [("value", IDENT.match(v).group(0)) for v in split_top(body, ",")]
            else:
                subs = []
                for member in split_top(body, ";"):
                    decls = split_top(member, ",") if "(" not in member else [member]
                    subs += [("member", declarator_name(d)) for d in decls]
            out.append((kind, name, subs, False))
            continue
        m = re.fullmatch(r"typedef struct \w+ \**(\w+)", s)
        if m:
            out.append(("type", m.group(1), [], False))
            continue
        m = re.fullmatch(r"typedef (.+?) ?\( ?\* ?(\w+) ?\) ?\((.*)\)", s)
        if m:
            ret, name, args = m.groups()
            out.append(("callback", name, [("param", p) for p in params(args)], ret != "void"))
            continue
        m = re.fullmatch(r"(.+?) ?\b(msgtk_\w+) ?\((.*)\)", s)
        if m:
            ret, name, args = m.groups()
            out.append(("function", name, [("param", p) for p in params(args)], ret.strip() != "void"))
            continue
        out.append(("unknown", s[:60], [], False))
    return out


def missing_docs(text):
    """What of a header's declarations its doc blocks leave out, in words."""
    blocks, sections = doc_blocks(text)
    missing = []
    if not sections:
        missing.append("no SECTION block (the module overview) at the top")
    for kind, name, subs, returns in declarations(text):
        if kind == "unknown":
            missing.append(f"a declaration this test cannot read: {name!r}")
            continue
        if name not in blocks:
            missing.append(f"{kind} {name}: no /** {name}: */ block")
            continue
        for what, sub in subs:
            if sub not in blocks[name]:
                missing.append(f"{kind} {name}: no @{sub}: line for {what} {sub}")
        if returns and "Returns" not in blocks[name]:
            missing.append(f"{kind} {name}: no Returns: line")
    return missing


def exported_functions():
    """The msgtk_* functions libmsgtk.so exports, or None without it or nm."""
    lib = os.path.join(BUILD_DIR, "src", "libmsgtk.so")
    if not os.path.exists(lib) or shutil.which("nm") is None:
        return None
    out = subprocess.run(["nm", "-D", "--defined-only", lib], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    return {l.split()[-1] for l in out.splitlines()
            if l.split() and l.split()[-1].startswith("msgtk_") and " T " in l}


def main():
    t = Tap()
    names = sorted(n for n in os.listdir(HEADERS) if n.endswith(".h"))
    declared = set()
    for name in names:
        with open(os.path.join(HEADERS, name), encoding="utf-8") as f:
            text = f.read()
        declared |= {n for k, n, _, _ in declarations(text) if k == "function"}
        with t.case(f"{name}: every public symbol has its doc comment"):
            missing = missing_docs(text)
            t.check(not missing, "\n".join(missing))
    exported = exported_functions()
    if exported is None:
        t.skip("the parse finds every function libmsgtk.so exports", "no built libmsgtk.so or no nm")
    else:
        with t.case("the parse finds every function libmsgtk.so exports"):
            t.check(exported == declared,
                    f"exported, not found in the headers: {sorted(exported - declared)}\n"
                    f"found in the headers, not exported: {sorted(declared - exported)}")
    # the test's own parser, on a header with one of everything
    sample = """/**
 * SECTION:x
 */
/**
 * MSGTK_X:
 */
#define MSGTK_X 1
/**
 * MsgtkE:
 * @MSGTK_E_A: a
 */
typedef enum { MSGTK_E_A = 1 << 0, MSGTK_E_B } MsgtkE;
/**
 * MsgtkS:
 * @a: a
 * @b: b
 * @f: f
 */
typedef struct { guint a, b; void (*f) (int x, gpointer d); char *c; } MsgtkS;
/**
 * msgtk_f:
 * @s: s
 */
char *msgtk_f (MsgtkS *s, const char *const *names);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkS, msgtk_s_free)
typedef gboolean (*MsgtkCb) (guint i, gpointer data);
"""
    with t.case("the check finds what a header leaves undocumented"):
        got = missing_docs(sample)
        want = ["enum MsgtkE: no @MSGTK_E_B: line for value MSGTK_E_B",
                "struct MsgtkS: no @c: line for member c",
                "function msgtk_f: no @names: line for param names",
                "function msgtk_f: no Returns: line",
                "callback MsgtkCb: no /** MsgtkCb: */ block"]
        t.check(got == want, f"got:  {got}\nwant: {want}")
    t.done()


if __name__ == "__main__":
    main()
