#!/usr/bin/env python3
"""Checks that the code on the slides is the code in the repository, so a deck cannot drift.

Every fenced code block in slides/*.md whose language is C++ (```cpp) must appear verbatim in
one file under solutions/ or given/ (what a lesson hands the student); every JavaScript block
(```js) in one file under reference/node/ (the talk's Node.js programs, fixed only where they
would not run; each file's header lists the changes). The talk's own text is not in the repository, so the slides quote the runnable files.

"Verbatim" ignores leading indentation, trailing spaces and blank lines. A line that is only an
elision comment (`// ...` or `// ... something`) splits a block into runs: each run must appear
as contiguous lines of the same file, in the order the slide shows them. Blocks in any other
language (sh, text, console) are not checked: use them for commands and output, never for code.

It also checks that every image a slide shows (![..](path)) exists.

usage: python3 slides/check_code.py [--verbose]     exit 0 when every block matches, 1 otherwise
"""
import glob
import os
import re
import sys

SLIDES = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SLIDES)

CPP_LANGS = {"cpp", "c++", "cc", "hpp", "cxx"}
JS_LANGS = {"js", "javascript"}
CPP_SUFFIXES = (".cpp", ".hpp", ".h", ".cc", ".ipp")

ELISION = re.compile(r"^\s*(//|#)\s*\.\.\.")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+#-]*)")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")


def is_deck(path):
    """A deck starts with front matter that says `marp: true` (README.md does not)."""
    with open(path, encoding="utf-8") as f:
        return re.match(r"---\n(.*\n)*?marp: true\n", f.read()) is not None


def normalise(lines):
    """Stripped, non-blank lines, each with its 1-based line number in the original."""
    return [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()]


def source_files(tree, suffixes):
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, tree)):
        dirnames[:] = [d for d in dirnames if d not in ("node_modules", "build")]
        found += [os.path.join(dirpath, f) for f in filenames if f.endswith(suffixes)]
    return sorted(found)


def load(paths, fixes=()):
    corpus = {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for wrong, right in fixes:
            text = text.replace(wrong, right)
        corpus[os.path.relpath(path, ROOT)] = [line for _, line in normalise(text.splitlines())]
    return corpus


def code_blocks(path):
    """(language, first line number, lines) for every fenced block of a Markdown file."""
    blocks, inside, fence, lang, start, body = [], False, "", "", 0, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = FENCE.match(line)
            if not inside and m:
                inside, fence, lang, start, body = True, m.group(2), m.group(3).lower(), n + 1, []
            elif inside and line.strip().startswith(fence) and not line.strip()[len(fence):].strip():
                blocks.append((lang, start, body))
                inside = False
            elif inside:
                body.append(line)
    return blocks


def runs_of(body, start):
    """Splits a block at its elision lines into runs of (line number, stripped line)."""
    runs, run = [], []
    for n, line in normalise(body):
        if ELISION.match(line):
            if run:
                runs.append(run)
            run = []
        else:
            run.append((n + start - 1, line))
    if run:
        runs.append(run)
    return runs


def find_run(run, lines, start):
    """Index just past the first place at or after `start` where `run` appears, else None."""
    wanted = [line for _, line in run]
    for i in range(start, len(lines)):
        j, k = i, 0
        while k < len(wanted):
            if j < len(lines) and lines[j] == wanted[k]:
                j, k = j + 1, k + 1
            else:
                break
        if k == len(wanted):
            return j
    return None


def best_partial(run, corpus):
    """Where the run comes closest: (file, matched lines, first line that differs)."""
    best = (None, 0, run[0])
    wanted = [line for _, line in run]
    for name, lines in corpus.items():
        for i in range(len(lines)):
            k = 0
            while k < len(wanted) and i + k < len(lines) and lines[i + k] == wanted[k]:
                k += 1
            if k > best[1]:
                best = (name, k, run[min(k, len(run) - 1)])
    return best


def check_block(runs, corpus):
    for name, lines in corpus.items():
        at = 0
        for run in runs:
            at = find_run(run, lines, at)
            if at is None:
                break
        if at is not None:
            return name, None
    # Report the first run that is nowhere, and where it comes closest.
    for run in runs:
        if not any(find_run(run, lines, 0) is not None for lines in corpus.values()):
            return None, (run, best_partial(run, corpus))
    return None, (runs[0], (None, 0, runs[0][0]))  # each run exists, but not together in order


def main():
    verbose = "--verbose" in sys.argv
    cpp = load(source_files("solutions", CPP_SUFFIXES) + source_files("given", CPP_SUFFIXES))
    js = load(source_files(os.path.join("reference", "node"), (".js",)))
    decks = [d for d in sorted(glob.glob(os.path.join(SLIDES, "*.md"))) if is_deck(d)]
    passed = failed = 0
    for deck in decks:
        rel = os.path.relpath(deck, ROOT)
        for lang, start, body in code_blocks(deck):
            if lang in CPP_LANGS:
                corpus, kind = cpp, "solutions/ or given/"
            elif lang in JS_LANGS:
                corpus, kind = js, "reference/node/"
            else:
                continue
            runs = runs_of(body, start)
            if not runs:
                continue
            found, miss = check_block(runs, corpus)
            if found:
                passed += 1
                if verbose:
                    print(f"ok    {rel}:{start - 1} ({lang}) is in {found}")
                continue
            failed += 1
            run, (near, matched, differs) = miss
            print(f"FAIL  {rel}:{start - 1}: this {lang} block is not in {kind}")
            print(f"      the run starting at line {run[0][0]}: {run[0][1]!r}")
            if near:
                print(f"      closest: {near}, {matched} line(s) agree, then the slide's line "
                      f"{differs[0]} differs: {differs[1]!r}")
            print("      copy the code again from the source (or split it with a `// ...` line)")
        with open(deck, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                for target in IMAGE.findall(line):
                    if "://" in target:
                        continue
                    if os.path.exists(os.path.join(SLIDES, target)):
                        passed += 1
                    else:
                        failed += 1
                        print(f"FAIL  {rel}:{n}: the image {target} does not exist")
    if not decks:
        print("no decks found in slides/")
        return 1
    print(f"slides: {len(decks)} decks, code blocks and images checked against the sources")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
