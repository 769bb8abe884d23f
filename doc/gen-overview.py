#!/usr/bin/env python3
"""Make the "Modules" page of the API reference from the public headers.

    gen-overview.py OUTPUT.md HEADER.h...

Each public header opens with a SECTION block (gtk-doc's form, which
g-ir-scanner reads too):

    /**
     * SECTION:name
     * @title: Title
     * @short_description: what it is, in a line
     *
     * What the module is for, in a paragraph or two.
     */

gi-docgen renders no SECTION blocks, so they become one content page
(gi-docgen's Markdown, "Title:" first): a heading per header, in the order
given. The description is written once, in the header. A header without a
SECTION block is an error.
"""
import os
import re
import sys

BLOCK = re.compile(r"/\*\*(.*?)\*/", re.S)


def section(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for m in BLOCK.finditer(text):
        lines = [re.sub(r"^\s*\* ?", "", l) for l in m.group(1).strip("\n").splitlines()]
        if not lines or not lines[0].startswith("SECTION:"):
            continue
        tags, i = {}, 1
        while i < len(lines) and lines[i].startswith("@"):
            key, _, value = lines[i][1:].partition(":")
            i += 1
            while i < len(lines) and lines[i].startswith(" ") and lines[i].strip():
                value += " " + lines[i].strip()  # a continuation line
                i += 1
            tags[key.strip()] = " ".join(value.split())
        body = "\n".join(lines[i:]).strip()
        return lines[0][len("SECTION:"):].strip(), tags, body
    return None


def main(out, headers):
    parts = ["Title: Modules", ""]
    for path in headers:
        found = section(path)
        name = os.path.basename(path)
        if found is None:
            sys.exit(f"{path}: no SECTION block at the top of the header")
        _, tags, body = found
        parts += [f"## {tags.get('title', name)}: `msgtk/{name}`", ""]
        if tags.get("short_description"):
            parts += [tags["short_description"][0].upper() + tags["short_description"][1:] + ".", ""]
        if body:
            parts += [body, ""]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: gen-overview.py OUTPUT.md HEADER.h...")
    main(sys.argv[1], sys.argv[2:])
