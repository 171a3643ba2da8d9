#!/usr/bin/env python3
"""Checks that no lesson gives its answers away: no comment in lessons/NN-*/*.cpp|hpp and no line
of lessons/NN-*/README.md contains a code line of solutions/NN-*/ verbatim (a line of at least
25 characters once comments are stripped and white space is folded).

    python3 tools/check_answers.py [NN ...]     exit 0: clean; 1: each hit printed

The hints (lessons/NN-*/HINTS.md) are where the code may be shown: tier 3, on request.
Standard library only.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_LENGTH = 25
SOURCES = ("*.cpp", "*.hpp")


def fold(text):
    return re.sub(r"\s+", " ", text).strip()


def split_code_and_comments(text):
    """(code lines, comment lines) of a C++ file, each whitespace-folded; string literals kept."""
    code, comments = [], []
    code_line, comment_line = [], []
    i, n = 0, len(text)
    state = "code"
    while i < n:
        c = text[i]
        if c == "\n":
            code.append(fold("".join(code_line)))
            comments.append(fold("".join(comment_line)))
            code_line, comment_line = [], []
            if state == "line-comment":
                state = "code"
            i += 1
            continue
        if state == "code":
            if text.startswith("//", i):
                state = "line-comment"
                i += 2
                continue
            if text.startswith("/*", i):
                state = "block-comment"
                i += 2
                continue
            if c in "\"'":
                quote, j = c, i + 1
                while j < n and text[j] != quote and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                code_line.append(text[i:j + 1])
                i = j + 1
                continue
            code_line.append(c)
        elif state == "line-comment":
            comment_line.append(c)
        elif state == "block-comment":
            if text.startswith("*/", i):
                state = "code"
                i += 2
                continue
            comment_line.append(c)
        i += 1
    code.append(fold("".join(code_line)))
    comments.append(fold("".join(comment_line)))
    return code, comments


def files(folder, patterns):
    found = []
    for pattern in patterns:
        found += glob.glob(os.path.join(folder, "**", pattern), recursive=True)
    return sorted(found)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def check_lesson(lesson_dir, solution_dir):
    """[(path, line number, the solution's line)] for every answer the lesson gives away."""
    lesson_comments = []  # (path, number, text)
    for path in files(lesson_dir, SOURCES):
        _, comments = split_code_and_comments(read(path))
        lesson_comments += [(path, k + 1, line) for k, line in enumerate(comments) if line]
    answers = set()
    for path in files(solution_dir, SOURCES):
        code, _ = split_code_and_comments(read(path))
        answers.update(line for line in code if len(line) >= MIN_LENGTH)
    readme = os.path.join(lesson_dir, "README.md")
    places = list(lesson_comments)
    if os.path.exists(readme):
        places += [(readme, k + 1, fold(line)) for k, line in enumerate(read(readme).splitlines())]
    hits = []
    for path, number, text in places:
        for answer in answers:
            if answer in text:
                hits.append((path, number, answer))
                break
    return hits


def main(wanted):
    hits = []
    for lesson_dir in sorted(glob.glob(os.path.join(ROOT, "lessons", "[0-9][0-9]-*"))):
        name = os.path.basename(lesson_dir)
        if wanted and name[:2] not in wanted and str(int(name[:2])) not in wanted:
            continue
        solution_dir = os.path.join(ROOT, "solutions", name)
        if os.path.isdir(solution_dir):
            hits += check_lesson(lesson_dir, solution_dir)
    for path, number, answer in hits:
        print(f"{os.path.relpath(path, ROOT)}:{number}: gives away the solution's line: {answer}")
    if hits:
        print(f"{len(hits)} place(s) in lessons/ show a line of the solution: say what must happen, "
              "and leave the code to the hints (HINTS.md, tier 3)")
        return 1
    print("no lesson shows a line of its solution in a comment or its README")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
