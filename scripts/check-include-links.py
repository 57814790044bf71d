#!/usr/bin/env python3
"""Every "concern/file.h" a target includes belongs to a library that target links.

Each library of ours puts only its own folder on its users' include path (its
include root in the build tree, cmake/ProjectOptions.cmake), so the compiler refuses
a header of a library that is not linked at all. This check also sees what the
compiler cannot (a header that includes a PRIVATE dependency compiles inside its
own library; kbctl has all of daemon/ on its path), from the CMakeLists and the
sources:

- a library's own sources may include the headers of what it links (DEPS and
  PRIVATE_DEPS, and what those link PUBLIC);
- a library's headers only those of its PUBLIC deps (a consumer gets no more);
- a test or an executable those of everything it links.

A header belongs to the library whose folder holds it. Usage:
  scripts/check-include-links.py [SOURCE_DIR]   exit 0 clean, 1 with one line per violation
"""

import glob
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))


def norm(dep):
    return "kb_" + dep[4:] if dep.startswith("kb::") else dep


targets = {}  # name -> {dir, sources, public, private, kind}


def add(name, d, sources, public=(), private=(), kind="exe"):
    t = targets.setdefault(name, {"dir": d, "sources": [], "public": [], "private": [], "kind": kind})
    if sources:
        t["dir"], t["kind"] = d, kind
    t["sources"] += sources
    t["public"] += [norm(x) for x in public]
    t["private"] += [norm(x) for x in private]


for cm in glob.glob(ROOT + "/daemon/**/CMakeLists.txt", recursive=True) + glob.glob(
        ROOT + "/drivers/**/CMakeLists.txt", recursive=True) + glob.glob(ROOT + "/tests/**/CMakeLists.txt",
                                                                         recursive=True):
    text = re.sub(r"#[^\n]*", "", open(cm, encoding="utf-8").read())
    d = os.path.dirname(cm)
    sets = {m.group(1): m.group(2).split() for m in re.finditer(r"\bset\((\w+)\s+([^)]*)\)", text)}

    def expand(ws):
        out = []
        for w in ws:
            m = re.fullmatch(r"\$\{(\w+)\}", w)
            out += sets.get(m.group(1), []) if m else [w]
        return out

    for m in re.finditer(r"\b(kb_add_library|kb_add_test)\(([\w-]+)(.*?)\)", text, re.S):
        fn, name, body = m.groups()
        parts = re.split(r"\b(SOURCES|PRIVATE_DEPS|DEPS)\b", body)
        got = {"SOURCES": [], "DEPS": [], "PRIVATE_DEPS": []}
        for key, val in zip(parts[1::2], parts[2::2]):
            got[key] += expand(val.split())
        if fn == "kb_add_library":
            add("kb_" + name, d, got["SOURCES"], got["DEPS"], got["PRIVATE_DEPS"], "lib")
        else:
            add(name, d, got["SOURCES"], (), got["DEPS"], "exe")
    for m in re.finditer(r"\badd_library\(([\w-]+)\s+(?:STATIC|OBJECT|SHARED)\s+([^)]*)\)", text):
        add(m.group(1), d, expand(m.group(2).split()), kind="lib")
    for m in re.finditer(r"\badd_executable\(([\w-]+)\s+([^)]*)\)", text):
        add(m.group(1), d, expand(m.group(2).split()), kind="exe")
    for m in re.finditer(r"\btarget_link_libraries\(([\w-]+)(.*?)\)", text, re.S):
        name, body = m.groups()
        scope = "public"
        for w in body.split():
            if w in ("PUBLIC", "INTERFACE"):
                scope = "public"
            elif w == "PRIVATE":
                scope = "private"
            else:
                add(name, d, [], [w] if scope == "public" else [], [w] if scope == "private" else [])

# A header belongs to the library (kb_add_library or add_library) whose folder holds it;
# where one folder holds two libraries, to the one that compiles its .cpp.
owner = {}
for name, t in targets.items():
    if t["kind"] != "lib":
        continue
    for s in t["sources"]:
        h = os.path.normpath(os.path.join(t["dir"], os.path.splitext(s)[0] + ".h"))
        if os.path.exists(h):
            owner[h] = name
for name, t in targets.items():
    if t["kind"] == "lib" and t["sources"]:
        for h in glob.glob(t["dir"] + "/*.h"):
            owner.setdefault(os.path.normpath(h), name)


def public_closure(name):
    seen, todo = set(), [name]
    while todo:
        for dep in targets.get(todo.pop(), {}).get("public", []):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def resolve(include, from_dir):
    for base in (from_dir, ROOT + "/daemon", ROOT + "/drivers", ROOT + "/tests/support"):
        p = os.path.normpath(os.path.join(base, include))
        if os.path.exists(p):
            return p
    return None


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m:
                yield m.group(1)


if not owner:
    sys.exit(f"include links: no library found under {ROOT}")
violations = []
for name, t in sorted(targets.items()):
    if not t["sources"]:
        continue
    own = {name}
    visible_public = public_closure(name) | own
    visible_all = set(visible_public)
    for dep in t["private"]:
        visible_all |= {dep} | public_closure(dep)
    files = [(os.path.normpath(os.path.join(t["dir"], s)), visible_all) for s in t["sources"]]
    if t["kind"] == "lib":
        files += [(h, visible_public) for h, o in owner.items() if o == name]
    for path, visible in files:
        if not os.path.exists(path):
            continue
        for inc in includes(path):
            p = resolve(inc, os.path.dirname(path))
            o = owner.get(p) if p else None
            if o and o not in visible:
                what = "its PUBLIC deps" if visible is visible_public and t["kind"] == "lib" and path.endswith(
                    ".h") else "what it links"
                violations.append(f"{os.path.relpath(path, ROOT)}: #include \"{inc}\" is {o}'s, "
                                  f"not in {what} ({name})")

for v in violations:
    print(v)
if violations:
    sys.exit(1)
print(f"include links: {len(targets)} targets, {len(owner)} library headers, clean")
