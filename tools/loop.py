"""The student's loop: check, hint, status, watch, reset, doctor, list. ./workshop sends these here.

Each lesson's tests are one Catch2 executable (build/tests/NN-name/test_NN); its cases carry
tags [stepK] (or a group's tag: [conventions], [blocking]). A case belongs to the LAST step it is
tagged with: [step1][step4] needs steps 1 to 4, so it counts (and its hint comes) from step 4.
A check builds only the lesson's program and its test executable, runs the tests once with
our results file (--results: a JSON line per case), and keeps the results in .workshop/results/ for `status` and `hint`.

HINTS.md, per lesson: `## Step K: title` (or `## Conventions`, named like the tag), a line
`Tests: \u0060name\u0060, ...`, then `### Tier 1`, `### Tier 2`, ... climbing from the idea to the code.
A tier can be written for one test: `### Tier 1 for \u0060name\u0060` is shown instead of tier 1
when that test is the one that failed.

Standard library only (python3 is all a bare Debian 12 gets from ./workshop before building).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wslib import (ROOT, built, build_dir, die, lesson_dir, lesson_dirs,  # noqa: E402
                   manifest, program_of, say)

BUILD = build_dir()
STATE = os.path.join(ROOT, ".workshop")  # results, hint progress, backups: ignored by git
RESULTS = os.path.join(STATE, "results")
HINTS_SEEN = os.path.join(STATE, "hints")
JOBS = str(os.cpu_count() or 2)


def shown(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


# ---- building ----

_prepared = bool(os.environ.pop("WORKSHOP_PREPARED", ""))  # ./workshop did it before check


def prepare():
    """Installs the build's packages and configures build/ when needed (./workshop prepare),
    once per run of this tool."""
    global _prepared
    if not _prepared:
        subprocess.run([os.path.join(ROOT, "workshop"), "prepare"], check=True)
        _prepared = True


def build(targets, log_path):
    """Builds only `targets`; the compiler's output goes to `log_path`. True if it built."""
    prepare()
    with open(log_path, "w") as log:
        done = subprocess.run(["cmake", "--build", BUILD, "-j", JOBS, "--target", *targets],
                              stdout=log, stderr=subprocess.STDOUT)
    return done.returncode == 0


def show_build_errors(log_path, folder):
    say(f"lesson {folder[:2]} does not compile: fix the FIRST error below "
        "(later ones often follow from it)")
    noise = re.compile(r"^\[ *\d+%\]|^g?make|^Consolidate compiler|^-- ")
    shown_lines, seen_error = [], False
    with open(log_path, errors="replace") as log:
        for line in log:
            if noise.match(line):
                continue
            seen_error = seen_error or "error" in line
            if seen_error:
                shown_lines.append(line.rstrip("\n").replace(ROOT + "/", ""))
    print("\n".join(shown_lines[:40]))
    print(f"  (the whole build output: {shown(log_path)})")


def lesson_targets(folder):
    program = program_of(folder)
    return program, [f"lessons_{folder[:2]}_{program}", f"test_{folder[:2]}"]


# ---- running the tests and reading their results ----


class Case:
    def __init__(self, name, tags, passed, failures=(), seconds=0.0, where=""):
        self.name, self.tags, self.passed = name, list(tags), passed
        self.failures, self.seconds, self.where = list(failures), seconds, where
        self.about = None  # the step a failure is about: first_failure() says

    @property
    def steps(self):
        return sorted(int(t[4:]) for t in self.tags if re.fullmatch(r"step\d+", t))

    @property
    def step(self):
        """The step this case belongs to: its last step, or its group ("conventions")."""
        if self.steps:
            return self.steps[-1]
        return self.tags[0] if self.tags else "other"

    def to_json(self):
        return {"name": self.name, "tags": self.tags, "passed": self.passed,
                "failures": self.failures, "seconds": self.seconds, "where": self.where}

    @staticmethod
    def from_json(data):
        return Case(data["name"], data["tags"], data["passed"], data.get("failures", ()),
                    data.get("seconds", 0.0), data.get("where", ""))


def step_label(step):
    return f"step {step}" if isinstance(step, int) else str(step)


def step_order(step):
    return (0, step, "") if isinstance(step, int) else (1, 0, str(step))


def step_spec(folder, step):
    """Catch2's spec for the cases that belong to `step`: tagged with it and no later step."""
    if not isinstance(step, int):
        return f"[{step}]"
    last = len(manifest(folder).get("steps", []))
    return f"[step{step}]" + "".join(f"~[step{k}]" for k in range(step + 1, last + 1))


def test_command(folder):
    program = program_of(folder)
    return [built(BUILD, "tests", folder, f"test_{folder[:2]}"),
            "--program", built(BUILD, "lessons", folder, program),
            "--lesson-readme", f"lessons/{folder}/README.md"]


def parse_results(lines):
    """[Case] from the test executable's --results file (a JSON line when a case starts, and
    another when it ends; tests/support/src/main.cpp). A case that started and never ended
    (the executable died in it) counts as failed."""
    cases = {}
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if data.get("passed") is None:
            data["passed"] = False
            data["failures"] = ["the test executable stopped in the middle of this case"]
        where = data.get("where", "")
        data["where"] = shown(where)
        data["failures"] = [f.replace(ROOT + "/", "") for f in data.get("failures", [])]
        cases[data["name"]] = Case.from_json(data)
    return list(cases.values())


def run_tests(folder, spec=None):
    """Runs the lesson's tests once (all, or those of `spec`) against the student's program."""
    with tempfile.TemporaryDirectory(prefix="workshop.") as work:
        results = os.path.join(work, "results.jsonl")
        command = test_command(folder) + ([spec] if spec else []) + ["--results", results]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, errors="replace")
        lines = []
        if os.path.exists(results):
            with open(results, errors="replace") as file:
                lines = file.readlines()
    cases = parse_results(lines)
    if not cases:
        sys.stderr.write(done.stdout + done.stderr)
    return cases


# ---- results kept between runs: .workshop/results/NN-name.json ----


def fingerprint(folder):
    """Changes whenever a source of the lesson or of its tests is saved, made or removed (not
    its README or HINTS.md: they change no result)."""
    digest = hashlib.sha1()
    for tree in ("lessons", "tests"):
        for directory, _, files in sorted(os.walk(os.path.join(ROOT, tree, folder))):
            for name in sorted(files):
                if name.startswith(".") or name.endswith(("~", ".swp", ".md")):
                    continue
                path = os.path.join(directory, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{path} {info.st_mtime_ns} {info.st_size}\n".encode())
    return digest.hexdigest()


def load_results(folder):
    try:
        with open(os.path.join(RESULTS, folder + ".json")) as saved:
            return json.load(saved)
    except (OSError, ValueError):
        return None


def save_results(folder, cases, print_ran, complete):
    """Keeps what this run found; a run of one step updates only that step's cases."""
    saved = load_results(folder)
    known = {} if complete or not saved else {c["name"]: c for c in saved["cases"]}
    order = [] if complete or not saved else [c["name"] for c in saved["cases"]]
    for case in cases:
        if case.name not in known:
            order.append(case.name)
        known[case.name] = case.to_json()
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, folder + ".json"), "w") as out:
        json.dump({"fingerprint": print_ran, "when": time.time(),
                   "complete": complete or bool(saved and saved.get("complete")),
                   "build": "ok", "cases": [known[name] for name in order]}, out, indent=1)


def save_build_failure(folder, print_ran):
    saved = load_results(folder) or {"cases": [], "complete": False}
    saved.update(fingerprint=print_ran, when=time.time(), build="failed")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, folder + ".json"), "w") as out:
        json.dump(saved, out, indent=1)


# ---- what the results say ----


def by_step(cases):
    """{step: [cases]} in step order."""
    table = {}
    for case in cases:
        table.setdefault(case.step, []).append(case)
    return dict(sorted(table.items(), key=lambda item: step_order(item[0])))


HINT_STEP = re.compile(r"^\s*Hint:\s+step (\d+)\b", re.M)


def first_failure(cases, asked=None):
    """The failing case to work on next, with `.about` set to the step its failure is about:
    the step its story's hint names ("Hint: step 1: ..."), else the first step it needs that no
    passing test covers yet (a test of steps 1 and 4 that fails once step 1's own test passes is
    about step 4), or `asked` when one step was checked."""
    done = {k for c in cases if c.passed for k in c.steps}
    best = None
    for index, case in enumerate(cases):
        if case.passed:
            continue
        named = next((int(m.group(1)) for f in case.failures for m in [HINT_STEP.search(f)] if m),
                     None)
        about = asked if asked is not None else named if named is not None else next(
            (k for k in case.steps if k not in done), case.step)
        key = (step_order(about), step_order(case.step), index)
        if best is None or key < best[0]:
            best = (key, case, about)
    if best is None:
        return None
    best[1].about = best[2]
    return best[1]


def print_progress(cases):
    for step, step_cases in by_step(cases).items():
        passed = sum(c.passed for c in step_cases)
        mark = "ok" if passed == len(step_cases) else "  "
        print(f"  {mark}  {step_label(step):<12} {passed}/{len(step_cases)} tests pass")


def plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def failure_state(case, cases):
    """A few words on the state the lesson failed in, so the hint reads in its context."""
    step = case.about
    mine = [c for c in cases if c.step == step] or [c for c in cases if step in c.steps]
    failing = [c for c in mine if not c.passed]
    if all(not c.passed for c in cases) and len(cases) > 1:
        return f"every test fails: 0 of {len(cases)} pass"
    if len(mine) == 1:
        return f"the only test of {step_label(step)}"
    if len(failing) == 1:
        return f"the only one of {step_label(step)} that fails: {len(mine) - 1} of {len(mine)} pass"
    return f"{len(failing)} of {len(mine)} tests of {step_label(step)} fail"


# ---- HINTS.md ----


class Hints:
    """One lesson's HINTS.md: its sections (a step, or a group like Conventions), each with a
    title and its tiers (plus the tiers written for one test)."""

    def __init__(self, folder):
        self.path = os.path.join(ROOT, "lessons", folder, "HINTS.md")
        self.sections = []  # [(key, title, unused, {tier: text}, {(tier, test name): text})]
        if not os.path.exists(self.path):
            return
        section, tier_key, lines = None, None, []

        def close_tier():
            if section is not None and tier_key is not None:
                text = "\n".join(lines).strip("\n")
                if isinstance(tier_key, tuple):
                    section[4][tier_key] = text
                else:
                    section[3][tier_key] = text

        with open(self.path) as text:
            for line in text.read().splitlines():
                heading = re.match(r"^## (.+)$", line)
                tier = re.match(r"^### Tier (\d+)(?: for `(.+)`)?\s*$", line)
                if heading:
                    close_tier()
                    title = heading.group(1).strip()
                    step = re.match(r"(?i)step (\d+)\b", title)
                    key = int(step.group(1)) if step else title.split(":")[0].strip().lower()
                    section, tier_key, lines = (key, title, [], {}, {}), None, []
                    self.sections.append(section)
                elif section is not None and tier:
                    close_tier()
                    number = int(tier.group(1))
                    tier_key, lines = ((number, tier.group(2)) if tier.group(2) else number), []
                elif section is not None and tier_key is not None:
                    lines.append(line)
            close_tier()

    def section(self, step):
        key = step if isinstance(step, int) else str(step).lower()
        return next((s for s in self.sections if s[0] == key), None)

    def tiers(self, step):
        found = self.section(step)
        return max(found[3]) if found and found[3] else 0

    def headings(self):
        return [s[1] for s in self.sections]


def tier_seen(folder, step):
    try:
        with open(os.path.join(HINTS_SEEN, f"{folder}-step{step}")) as seen:
            return int(seen.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def print_hint(folder, step, tier, failing_case=None):
    hints = Hints(folder)
    section = hints.section(step)
    tiers = hints.tiers(step)
    if not tiers:
        print(f"  (no hints written for {step_label(step)} yet: read lessons/{folder}/README.md)")
        return 0
    tier = min(tier, tiers)
    text = section[3].get(tier, "")
    for_test = failing_case and section[4].get((tier, failing_case.name))
    about = ""
    if for_test:
        text, about = for_test, " for the test that failed"
    say(f"hint for {section[1]} (tier {tier} of {tiers}{about})")
    for line in re.sub(r"\n{3,}", "\n\n", text).splitlines():
        print(f"  {line}" if line else "")
    os.makedirs(HINTS_SEEN, exist_ok=True)
    with open(os.path.join(HINTS_SEEN, f"{folder}-step{step}"), "w") as seen:
        seen.write(f"{tier}\n")
    return tiers


def todo_files(folder, step):
    found = []
    pattern = re.compile(rf"TODO step {step}(?!\d)")
    directory = os.path.join(ROOT, "lessons", folder)
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".md") or not os.path.isfile(path):
            continue
        with open(path, errors="replace") as source:
            if pattern.search(source.read()):
                found.append(f"lessons/{folder}/{name}")
    return found


# ---- the commands ----


def parse_step(value):
    return int(value) if str(value).isdigit() else str(value).lower()


def check_lesson(folder, step=None):
    """Builds and tests the student's lesson; prints the first failure, its hint, what next.
    Returns the exit status (0: the lesson, or the step, passes)."""
    number = folder[:2]
    if not os.path.exists(os.path.join(ROOT, "tests", folder, "CMakeLists.txt")):
        die(f"lesson {number} has no tests yet (tests/{folder})")
    program, targets = lesson_targets(folder)
    print_before = fingerprint(folder)
    say(f"building your lesson {number} (lessons/{folder}) and its tests")
    os.makedirs(BUILD, exist_ok=True)
    log_path = os.path.join(BUILD, "last-check-build.log")
    if not build(targets, log_path):
        save_build_failure(folder, print_before)
        show_build_errors(log_path, folder)
        return 1
    scope = f"step {step} of lesson {number}" if step is not None else f"lesson {number}"
    say(f"testing {scope} against your program ({shown(test_command(folder)[2])})")
    cases = run_tests(folder, step_spec(folder, step) if step is not None else None)
    if not cases and isinstance(step, int):
        print(f"  (no test belongs to step {step} alone: running the tests that need it with a "
              "later step)")
        cases = run_tests(folder, f"[step{step}]")
    if not cases:
        die("the tests did not run (see above)"
            + (f"; does step {step} exist? ./workshop hint {number} lists the steps"
               if step is not None else ""))
    save_results(folder, cases, print_before, complete=step is None)
    passing = sum(c.passed for c in cases)
    say(f"{passing} of {plural(len(cases), 'test')} pass")
    print_progress(cases)

    return report(folder, cases, step)


def print_failure(failing, cases):
    """The failing case's story, as check and hunt show it."""
    say(f"the first failing test of {step_label(failing.about)}: \"{failing.name}\" "
        f"({failure_state(failing, cases)})")
    if failing.where:
        print(f"  the test: {failing.where}")
    for failure in failing.failures:
        print()
        for line in failure.strip().splitlines():
            print(f"  {line.rstrip()}" if line.strip() else "")
    print()


def report(folder, cases, step):
    """What check prints after the progress table: the first failure, its hint, what next."""
    number = folder[:2]
    failing = first_failure(cases, step)
    if failing is None:
        if step is not None:
            say(f"step {step} passes ({plural(len(cases), 'test')}). "
                f"The whole lesson: ./workshop check {number}")
            return 0
        say(f"lesson {number} passes: all {plural(len(cases), 'test')}.")
        print(f"  Compare with the reference solution:  diff -u lessons/{folder} solutions/{folder}")
        later = [d for d in lesson_dirs() if d > folder]
        if later:
            print(f"  Next: lesson {later[0][:2]} ({later[0][3:]}): read lessons/{later[0]}/README.md, "
                  f"then ./workshop check {later[0][:2]}")
        else:
            print("  That was the last lesson. ./workshop status shows them all.")
        return 0

    print_failure(failing, cases)
    print_hint(folder, failing.about, 1, failing)
    say("what next")
    nn = number
    rows = []
    if isinstance(failing.about, int):
        files = todo_files(folder, failing.about)
        print(f"  Read step {failing.about} in lessons/{folder}/README.md"
              + (f", then edit {' '.join(files)} (TODO step {failing.about})" if files else ""))
        if step is None:
            rows.append((f"./workshop check {nn} --step {failing.about}",
                         f"run only step {failing.about}'s tests"))
        else:
            rows.append((f"./workshop check {nn} --step {failing.about}", "run these tests again"))
    else:
        print(f"  Read lessons/{folder}/README.md; what you changed: git diff lessons/{folder}")
        rows.append((f"./workshop check {nn}", "run the tests again"))
    rows.append((f"./workshop hint {nn} {failing.about} --more", "a more explicit hint"))
    rows.append((f"./workshop watch {nn}", "check again on every save"))
    for command, what in rows:
        print(f"  {command:<34} {what}")
    return 1


def options(args, flags, usage):
    """Splits `args` into positionals and {flag: value}; flags maps each to whether it takes one."""
    positional, found = [], {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, inline = arg.partition("=")
        if name in flags:
            if flags[name]:
                if inline:
                    found[name] = inline
                elif i + 1 < len(args):
                    found[name] = args[i + 1]
                    i += 1
                else:
                    die(f"{name} needs a value ({usage})")
            else:
                found[name] = True
        elif arg.startswith("-"):
            die(f"unknown option {arg} ({usage})")
        else:
            positional.append(arg)
        i += 1
    return positional, found


# ---- known-bad variants: the mistakes in tests/mutants/, hunted by students and by CI ----


def variant_info(patch):
    """(step, what the mistake is) of a known-bad variant tests/mutants/NN-name/NAME.patch, from
    its lesson's manifest (None, "") when the manifest does not list it."""
    folder, name = os.path.basename(os.path.dirname(patch)), os.path.basename(patch)[:-len(".patch")]
    hunt = manifest(folder).get("hunts", {}).get(name)
    return (hunt["step"], hunt["mistake"]) if hunt else (None, "")


def run_against(tests, program, spec=None):
    """[Case]: the test executable `tests` run once against `program`."""
    with tempfile.TemporaryDirectory(prefix="workshop.") as work:
        results = os.path.join(work, "results.jsonl")
        subprocess.run([tests, "--program", program, "--results", results] + ([spec] if spec else []),
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(results):
            return []
        with open(results, errors="replace") as file:
            return parse_results(file.readlines())


def cmd_variant(args):
    """variant --tests T --program P --patch PATCH (CTest's mutant.NN.<mistake>): the lesson's
    tests must fail against the known-bad variant P, and the first failure must be about the step
    the patch's first line names, as ./workshop check would tell a student who made the mistake."""
    usage = "usage: python3 tools/loop.py variant --tests T --program P --patch PATCH"
    _, found = options(args, {"--tests": True, "--program": True, "--patch": True}, usage)
    if len(found) != 3:
        die(usage)
    step, about = variant_info(found["--patch"])
    print(f"known-bad variant {shown(found['--patch'])}: {about}")
    if step is None:
        print("  lessons/NN-name/lesson.json lists no such hunt: add it there, with its step")
        return 1
    if not os.access(found["--program"], os.X_OK):
        print(f"  {found['--program']} is not built (else every test would fail and it would look caught)")
        return 1
    cases = run_against(found["--tests"], found["--program"])
    if not cases:
        print("  the tests did not run")
        return 1
    failing = first_failure(cases)
    if failing is None:
        print(f"  HOLE: all {len(cases)} test cases pass against it. Add a test that catches it.")
        return 1
    print(f"  caught by {sum(not c.passed for c in cases)} of {len(cases)} test cases:")
    for case in cases:
        if not case.passed:
            print(f"    - {case.name}")
    if failing.about != step:
        print(f"  but ./workshop check would send the student to {step_label(failing.about)} "
              f"(first failure: \"{failing.name}\"), and the mistake is in step {step}: make a "
              f"step-{step} test catch it, or the story's hint name step {step}")
        return 1
    print(f"  ./workshop check names step {step}, where the mistake is")
    return 0


HUNTS = os.path.join(ROOT, "hunts")  # the student's copies of known-bad variants (ignored by git)
HUNTS_SOLVED = os.path.join(STATE, "hunts.json")


def hunts_of(folder):
    """{mistake: patch path} of lesson `folder`: its known-bad variants, in its manifest's order."""
    return {name: os.path.join(ROOT, "tests", "mutants", folder, name + ".patch")
            for name in manifest(folder).get("hunts", {})}


def hunts_solved():
    try:
        with open(HUNTS_SOLVED) as saved:
            return set(json.load(saved))
    except (OSError, ValueError):
        return set()


def patched_files(patch):
    with open(patch) as text:
        return re.findall(r"^\+\+\+ b/(\S+)", text.read(), re.M)


def cmd_hunt(args):
    """hunt NN [K] [--check] [--list]: bug hunt K of lesson NN (by default the first unsolved).
    The reference solution with one real mistake in it (a known-bad variant, tests/mutants/):
    its tests fail, the story shows what happened, and the student finds and fixes the mistake
    in a copy (hunts/NN-K/); --check tests the fixed copy and, once it passes, tells what the
    mistake was and shows its diff. Hunts go by number: a name would give the mistake away."""
    usage = "usage: ./workshop hunt NN [K] [--check] [--list]"
    positional, found = options(args, {"--check": False, "--list": False}, usage)
    if not 1 <= len(positional) <= 2:
        die(usage)
    folder = lesson_dir(positional[0])
    nn, hunts, solved = folder[:2], hunts_of(folder), hunts_solved()
    if not hunts:
        die(f"lesson {nn} has no hunts")
    names = list(hunts)  # hunt K is the K-th variant in name order, as cmake/Mutants.cmake counts
    if "--list" in found:
        say(f"lesson {nn}'s bug hunts ({sum(f'{nn}-{m}' in solved for m in hunts)} of "
            f"{len(hunts)} solved)")
        for k, mistake in enumerate(names, 1):
            step, about = variant_info(hunts[mistake])
            done = f"{nn}-{mistake}" in solved
            print(f"  {k:>2}  {'solved' if done else '      '}  a mistake in step {step}"
                  + (f": {about}" if done else ""))
        return 0
    if len(positional) == 2:
        if not positional[1].isdigit() or not 1 <= int(positional[1]) <= len(names):
            die(f"lesson {nn} has hunts 1 to {len(names)}: ./workshop hunt {nn} --list")
        number = int(positional[1])
    else:
        number = next((k for k, m in enumerate(names, 1) if f"{nn}-{m}" not in solved), None)
        if number is None:
            say(f"every hunt of lesson {nn} is solved. ./workshop hunt {nn} --list")
            return 0
    mistake = names[number - 1]
    program = program_of(folder)
    copy = os.path.join(HUNTS, f"{nn}-{number}")
    tests = built(BUILD, "tests", folder, f"test_{nn}")
    log_path = os.path.join(BUILD, "last-hunt-build.log")
    if "--check" in found:
        if not os.path.isdir(copy):
            die(f"no copy to check: ./workshop hunt {nn} {number} makes it")
        prepare()
        subprocess.run(["cmake", "-S", ROOT, "-B", BUILD], stdout=subprocess.DEVNULL, check=True)
        say(f"building your fixed copy ({shown(copy)}/) with the rest of the reference solution")
        if not build([f"hunt_{nn}_{number}", f"test_{nn}"], log_path):
            show_build_errors(log_path, folder)
            return 1
        cases = run_against(tests, os.path.join(BUILD, "hunts", f"{nn}-{number}", program))
        say(f"{sum(c.passed for c in cases)} of {plural(len(cases), 'test')} pass")
        failing = first_failure(cases)
        if failing is not None or not cases:
            if failing is not None:
                print_failure(failing, cases)
            say(f"not yet: edit {shown(copy)}/ again, then ./workshop hunt {nn} {number} --check")
            return 1
        step, about = variant_info(hunts[mistake])
        say(f"solved: the mistake was in step {step}: {about}")
        with open(hunts[mistake]) as patch:
            print("  The mistake, as a diff from the reference solution:")
            for line in patch.read().splitlines()[1:]:
                print(f"    {line}")
        os.makedirs(STATE, exist_ok=True)
        with open(HUNTS_SOLVED, "w") as saved:
            json.dump(sorted(solved | {f"{nn}-{mistake}"}), saved)
        left = [m for m in hunts if f"{nn}-{m}" not in solved and m != mistake]
        print(f"  Next: ./workshop hunt {nn}" + (f" ({len(left)} left)" if left else
                                                   f" --list (all {len(hunts)} solved)"))
        return 0

    say(f"bug hunt {number} of {len(names)} (lesson {nn}): the reference solution with ONE real "
        "mistake in it")
    prepare()
    if not build([f"mutant_{nn}_{mistake}", f"test_{nn}"], log_path):
        show_build_errors(log_path, folder)
        return 1
    cases = run_against(tests, os.path.join(BUILD, "mutants", folder, mistake, program))
    say(f"{sum(c.passed for c in cases)} of {plural(len(cases), 'test')} pass")
    print_progress(cases)
    failing = first_failure(cases)
    if failing is not None:
        print_failure(failing, cases)
    files = patched_files(hunts[mistake])
    if not os.path.isdir(copy):
        for name in files:
            os.makedirs(os.path.dirname(os.path.join(copy, name)), exist_ok=True)
            shutil.copy(os.path.join(BUILD, "mutants", folder, mistake, "src", name),
                        os.path.join(copy, name))
    say("your hunt")
    print(f"  The mistake is in {' '.join(shown(os.path.join(copy, n)) for n in files)} (your copy;"
          f" the rest of the program is solutions/{folder}/).")
    print("  Read the story above: what did the client see, and what should it have seen? Which")
    print("  step of the lesson promises that? Find the lines that break it and fix them there.")
    rows = [(f"./workshop hunt {nn} {number} --check", "test your fix (then see the mistake)"),
            (f"./workshop hunt {nn} --list", "every hunt of this lesson")]
    for command, what in rows:
        print(f"  {command:<40} {what}")
    return 1


def cmd_check(args):
    usage = "usage: ./workshop check NN [--step K]"
    positional, found = options(args, {"--step": True}, usage)
    if len(positional) != 1:
        die(usage)
    step = parse_step(found["--step"]) if "--step" in found else None
    return check_lesson(lesson_dir(positional[0]), step)


def cmd_hint(args):
    usage = "usage: ./workshop hint NN [K] [--more]"
    positional, found = options(args, {"--more": False}, usage)
    if not 1 <= len(positional) <= 2:
        die(usage)
    folder = lesson_dir(positional[0])
    nn = folder[:2]
    hints = Hints(folder)
    if not hints.sections:
        die(f"lesson {nn} has no hints yet: read lessons/{folder}/README.md")
    step, failing = (parse_step(positional[1]) if len(positional) == 2 else None), None
    saved = load_results(folder)
    fresh = saved and saved.get("fingerprint") == fingerprint(folder) and saved.get("build") == "ok"
    if fresh:
        failing = first_failure([Case.from_json(c) for c in saved["cases"]])
    if step is None and not fresh:
        say(f"finding the first step whose tests fail (building lesson {nn}, running its tests)")
        program, targets = lesson_targets(folder)
        log_path = os.path.join(BUILD, "last-check-build.log")
        print_before = fingerprint(folder)
        if not build(targets, log_path):
            show_build_errors(log_path, folder)
            return 1
        cases = run_tests(folder)
        save_results(folder, cases, print_before, complete=True)
        failing = first_failure(cases)
    if step is None:
        if failing is None:
            say(f"every test of lesson {nn} passes: no hint needed. Hints for one step: "
                f"./workshop hint {nn} K")
            for heading in hints.headings():
                print(f"  {heading}")
            return 0
        step = failing.about
        print(f"  (the test that fails first: \"{failing.name}\")")
    if failing is not None and failing.about != step:
        failing = None  # the hint asked for is about another step than the last failure
    if not hints.tiers(step):
        sys.stderr.write(f"No hints for {step_label(step)} of lesson {nn}. The steps with hints:\n")
        for heading in hints.headings():
            sys.stderr.write(f"  {heading}\n")
        return 2
    tier = tier_seen(folder, step) + 1 if "--more" in found else 1
    tiers = print_hint(folder, step, tier, failing)
    if min(tier, tiers) < tiers:
        print(f"  More: ./workshop hint {nn} {step} --more")
    else:
        print(f"  That is the last tier. The reference: solutions/{folder}/")
    return 0


def lessons_with_tests():
    return [d for d in lesson_dirs()
            if os.path.exists(os.path.join(ROOT, "tests", d, "CMakeLists.txt"))
            and os.path.exists(os.path.join(ROOT, "lessons", d, "CMakeLists.txt"))
            and program_of(d)]


def cmd_status(args):
    usage = "usage: ./workshop status [NN] [--rerun]"
    positional, found = options(args, {"--rerun": False}, usage)
    folders = [lesson_dir(n) for n in positional] or lessons_with_tests()
    if not folders:
        die("no lesson has tests yet")
    rows = []
    for folder in folders:
        saved = load_results(folder)
        stale = bool(saved) and saved.get("fingerprint") != fingerprint(folder)
        if "--rerun" in found:  # without it, status only reads what earlier checks recorded
            nn = folder[:2]
            say(f"lesson {nn}: building and running its tests")
            print_before = fingerprint(folder)
            _, targets = lesson_targets(folder)
            if build(targets, os.path.join(BUILD, f"last-status-{nn}.log")):
                save_results(folder, run_tests(folder), print_before, complete=True)
            else:
                save_build_failure(folder, print_before)
            saved, stale = load_results(folder), False
        rows.append((folder, saved, stale))

    cases_of = {f: [Case.from_json(c) for c in s["cases"]] for f, s, _ in rows if s}
    max_step = max([c.step for cs in cases_of.values() for c in cs if isinstance(c.step, int)],
                   default=0)
    print()
    print(f"{'lesson':<24}" + "".join(f"{'step ' + str(k):<9}" for k in range(1, max_step + 1))
          + f"{'other':<13}next")
    any_stale = False
    for folder, saved, stale in rows:
        nn = folder[:2]
        line = f"{nn + ' ' + folder[3:] + (' *' if stale else ''):<24}"
        any_stale = any_stale or stale
        if not saved:
            print(line + f"not started: ./workshop check {nn}")
            continue
        if saved.get("build") == "failed":
            print(line + f"does not compile: ./workshop check {nn} shows the error")
            continue
        table = by_step(cases_of[folder])

        def cell(step_cases):
            if not step_cases:
                return ""
            passed = sum(c.passed for c in step_cases)
            return ("ok " if passed == len(step_cases) else "") + f"{passed}/{len(step_cases)}"
        for k in range(1, max_step + 1):
            line += f"{cell(table.get(k, [])):<9}"
        line += f"{cell([c for s, cs in table.items() if not isinstance(s, int) for c in cs]):<13}"
        failing = first_failure(cases_of[folder])
        if failing is None:
            line += "done"
        elif isinstance(failing.about, int):
            line += f"./workshop check {nn} --step {failing.about}"
        else:
            line += f"./workshop check {nn}   ({failing.about})"
        print(line)
    print()
    print("Each cell: tests that pass / tests of that step (a test counts for the last step it "
          "needs); ok: all pass.")
    print("other: the tests that belong to no step (conventions: --help, bad flags, signals; "
          "and the like).")
    if any_stale:
        print("*: edited since these results: ./workshop check NN (or status --rerun) runs it again.")
    solved = hunts_solved()
    hunts = [(folder[:2], hunts_of(folder)) for folder, _, _ in rows]
    print("Bug hunts solved (./workshop hunt NN): " + ", ".join(
        f"{nn} {sum(f'{nn}-{m}' in solved for m in found)}/{len(found)}"
        for nn, found in hunts if found))
    when = max((s.get("when", 0) for _, s, _ in rows if s), default=0)
    print((f"From the last runs (latest {time.strftime('%H:%M', time.localtime(when))}); "
           if when else "Nothing checked yet; ") + "./workshop status --rerun builds and runs them all now.")
    return 0


def cmd_watch(args):
    usage = "usage: ./workshop watch NN [--step K]"
    positional, found = options(args, {"--step": True}, usage)
    if len(positional) != 1:
        die(usage)
    folder = lesson_dir(positional[0])
    step = parse_step(found["--step"]) if "--step" in found else None
    # WORKSHOP_POLL=1 polls even with inotify-tools (inotify misses saves on some shared folders).
    inotify = shutil.which("inotifywait") and not os.environ.get("WORKSHOP_POLL")
    waiter = "inotifywait" if inotify else "polling every second"
    try:
        while True:
            last = fingerprint(folder)
            if sys.stdout.isatty():
                print("\033[H\033[2J", end="", flush=True)
            try:
                check_lesson(folder, step)
            except SystemExit:
                pass
            say(f"watching lessons/{folder} ({waiter}): save a file to check again, Ctrl-C to stop")
            while fingerprint(folder) == last:
                if inotify:  # with a timeout: a save made while the check ran is not missed
                    subprocess.run(["inotifywait", "-qq", "-r", "-t", "2", "-e",
                                    "close_write,moved_to,create,delete",
                                    os.path.join(ROOT, "lessons", folder)],
                                   stderr=subprocess.DEVNULL)
                else:
                    time.sleep(1)
            time.sleep(0.3)  # let the editor finish writing (some save through a temporary file)
    except KeyboardInterrupt:
        print()
        say(f"stopped watching lessons/{folder}")
        return 0


def git(*args, check=True):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=check)


def cmd_reset(args):
    usage = "usage: ./workshop reset NN [--yes]"
    positional, found = options(args, {"--yes": False, "-y": False}, usage)
    if len(positional) != 1:
        die(usage)
    folder = lesson_dir(positional[0])
    if not shutil.which("git") or git("rev-parse", "--git-dir", check=False).returncode:
        die("reset needs the git clone of the workshop")
    if git("cat-file", "-e", f"HEAD:lessons/{folder}", check=False).returncode:
        die(f"lessons/{folder} is not in git's HEAD: nothing to restore")
    changes = git("status", "--short", "--untracked-files=all", "--", f"lessons/{folder}").stdout
    if not changes.strip():
        say(f"lessons/{folder} is already the untouched skeleton: nothing to do")
        return 0
    print(f"Your changes in lessons/{folder}:")
    print("\n".join("  " + line for line in changes.rstrip("\n").splitlines()))
    backup = os.path.join(STATE, "backup", f"{folder}-{time.strftime('%Y%m%d-%H%M%S')}")
    if "--yes" not in found and "-y" not in found:
        try:
            answer = input(f"Put the skeleton back? Your files are kept in {shown(backup)}/ [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            say("nothing changed")
            return 1
    shutil.copytree(os.path.join(ROOT, "lessons", folder), backup)
    git("checkout", "HEAD", "--", f"lessons/{folder}")
    git("clean", "-fdq", "--", f"lessons/{folder}")
    for name in os.listdir(HINTS_SEEN) if os.path.isdir(HINTS_SEEN) else []:
        if name.startswith(folder + "-"):
            os.unlink(os.path.join(HINTS_SEEN, name))
    say(f"lessons/{folder} is the skeleton again. Your work: {shown(backup)}/")
    print(f"  To see what you had: diff -ru lessons/{folder} {shown(backup)}")
    print(f"  To bring it back:    cp -a {shown(backup)}/. lessons/{folder}/")
    return 0


def cmd_list(args):
    for folder in lesson_dirs():
        print(f"  {folder[:2]}  {folder[3:]:<22} {program_of(folder) or ''}")
    return 0


# ---- doctor ----


def requirements():
    """[(package, command or None, needed by, what for)] from tools/requirements.txt, the lines
    for this release (NAME@release)."""
    from wslib import packages_here
    rows = []
    with open(os.path.join(ROOT, "tools", "requirements.txt")) as listed:
        for line in listed:
            if line.strip() and not line.startswith("#"):
                package, command, need, what = line.split(None, 3)
                rows.append((package, None if command == "-" else command, need, what.strip()))
    here = set(packages_here([package for package, _, _, _ in rows]))
    return [(package.partition("@")[0], command, need, what) for package, command, need, what in rows
            if package.partition("@")[0] in here]


def quiet(command, stdin=""):
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True)
        return done.returncode, done.stdout.strip()
    except OSError:
        return 127, ""


def detail(package, command):
    """A version or a capability worth showing, or "" (never fails)."""
    if package == "g++":
        compiles = [quiet(["g++", "-std=c++20", "-fsyntax-only", "-x", "c++", "-"], source)[0] == 0
                    for source in ("#include <asio.hpp>\nasio::awaitable<int> answer() "
                                   "{ co_return 42; }\nint main() {}\n",
                                   "#include <coroutine>\nint main() {}\n")]
        version = quiet(["g++", "-dumpfullversion"])[1]
        if compiles[0]:
            return version + ", C++20 coroutines (asio::awaitable compiles)"
        return version + (", C++20 coroutines" if compiles[1]
                          else ": NO C++20 coroutines (need g++ 11+)")
    catch2 = ("/usr/include/catch2/catch_version_macros.hpp"
              if os.path.exists("/usr/include/catch2/catch_version_macros.hpp")
              else "/usr/include/catch2/catch.hpp", "CATCH_VERSION_")
    headers = {"catch2": catch2, "libcatch2-dev": catch2,
               "libcli11-dev": ("/usr/include/CLI/Version.hpp", "CLI11_VERSION_"),
               "nlohmann-json3-dev": ("/usr/include/nlohmann/json.hpp", "NLOHMANN_JSON_VERSION_")}
    if package in headers and os.path.exists(headers[package][0]):
        with open(headers[package][0], errors="replace") as header:
            parts = re.findall(rf"#define {headers[package][1]}(?:MAJOR|MINOR|PATCH) (\d+)",
                               header.read())
        return ".".join(parts[:3])
    if package == "cmake":
        return quiet(["cmake", "--version"])[1].splitlines()[0].replace("cmake version ", "")
    if package == "libasio-dev":
        code, out = quiet(["g++", "-E", "-P", "-x", "c++", "-"],
                          "#include <asio/version.hpp>\nASIO_VERSION\n")
        if code == 0 and out.splitlines()[-1].isdigit():
            v = int(out.splitlines()[-1])
            return f"{v // 100000}.{v // 100 % 1000}.{v % 100}"
    if package == "libhiredis-dev":
        return quiet(["pkg-config", "--modversion", "hiredis"])[1]
    if command in ("node", "redis-server", "python3", "git") and shutil.which(command):
        version = re.search(r"\d+\.\d+(\.\d+)?", quiet([command, "--version"])[1])
        return version.group(0) if version else ""
    return ""


# The versions CI builds and tests with: Debian 12 (bookworm) and Debian 13 (trixie).
TESTED = {"g++": ("12.", "14."), "cmake": ("3.25.", "3.31."), "libasio-dev": ("1.22.", "1.30."),
          "libhiredis-dev": ("0.14.", "1.2."), "catch2": ("2.13.",), "libcatch2-dev": ("3.7.",),
          "redis-server": ("7.0.", "8.0."), "python3": ("3.11.", "3.13.")}


def distribution():
    """("Debian GNU/Linux 13 (trixie)", tested?) from /etc/os-release."""
    fields = {}
    try:
        with open("/etc/os-release") as release:
            for line in release:
                key, _, value = line.strip().partition("=")
                fields[key] = value.strip('"')
    except OSError:
        pass
    tested = fields.get("ID") == "debian" and fields.get("VERSION_CODENAME") in ("bookworm", "trixie")
    return fields.get("PRETTY_NAME", "an unknown system (no /etc/os-release)"), tested


def cmd_doctor(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from wslib import missing_packages
    name, tested = distribution()
    say(f"this is {name}: " + ("CI tests the workshop on it" if tested else
        "NOT one CI tests (Debian 12 and 13 are); it may work, and the container does "
        "(README: On macOS or Windows)"))
    say("checking what the workshop needs (tools/requirements.txt says who installs what)")
    rows = requirements()
    not_installed = set(missing_packages([p for p, c, _, _ in rows if c is None]))
    fix_now, later = [], []
    for package, command, need, what in rows:
        present = shutil.which(command) is not None if command else package not in not_installed
        if package == "g++" and present and "NO C++20" in detail(package, command):
            present = False
        name = command or package
        if present:
            extra = detail(package, command)
            untested = (package in TESTED and extra[:1].isdigit()
                        and not extra.startswith(TESTED[package]))
            print(f"  {'WARNING' if untested else 'ok':<9} {name:<20} {what}"
                  + (f"  [{extra}]" if extra else "")
                  + (f"  (CI tests {' and '.join(v + 'x' for v in TESTED[package])})"
                     if untested else ""))
        elif need in ("tools", "build"):
            print(f"  MISSING   {name:<20} {what}  (package {package})")
            fix_now.append(package)
        elif need == "run":
            print(f"  later     {name:<20} {what}  (package {package}: installed by that command)")
            later.append(package)
        else:
            print(f"  optional  {name:<20} {what}  (package {package})")
            later.append(package)
    configured = os.path.exists(os.path.join(BUILD, "Makefile")) and os.path.exists(
        os.path.join(BUILD, ".workshop-configured"))
    print(f"  {'ok' if configured else 'later':<9} {'build folder':<20} {shown(BUILD)}/ "
          + ("is configured" if configured else "is made by the first ./workshop check, run or test"))
    print()
    sudo = "" if os.geteuid() == 0 else "sudo "
    if not fix_now:
        say("everything the lessons need is in place. Start with: ./workshop check 01")
        return 0
    say("missing for the lessons (./workshop check, run and test install these themselves):")
    print(f"  {sudo}apt-get update && {sudo}apt-get install -y --no-install-recommends "
          + " ".join(fix_now))
    return 1


# ---- each lesson README's list of its tests, generated from the test executables ----

LIST_BEGIN = "<!-- tests:begin -->"
LIST_END = "<!-- tests:end -->"


def test_list(folder, build):
    """The markdown list of the lesson's tests by step, from its executable's --list-cases."""
    from wslib import list_cases
    binary = built(build, "tests", folder, f"test_{folder[:2]}")
    if not os.path.exists(binary):
        die(f"{shown(binary)} is not built: ./workshop build test_{folder[:2]}")
    cases = [Case(name, tags, False) for name, tags in list_cases(binary)]
    lines = [f"The tests, by step: {plural(len(cases), 'test')} (generated from "
             f"tests/{folder}/ by `python3 tools/loop.py test-list --write`; CI checks it):", ""]
    for step, step_cases in by_step(cases).items():
        lines.append(f"- **{step_label(step).capitalize()}** ({plural(len(step_cases), 'test')}; "
                     f"`./workshop check {folder[:2]} --step {step}`)" if isinstance(step, int)
                     else f"- **{step_label(step).capitalize()}** ({plural(len(step_cases), 'test')})")
        lines.extend(f"  - {c.name}" for c in step_cases)
    return "\n".join(lines)


def cmd_test_list(args):
    """test-list [--write|--check] [--build DIR] [NN...]: prints, writes into, or checks each
    lesson README's generated list of tests (between the tests:begin/end markers, placed at the
    end of its Steps section the first time)."""
    usage = "usage: python3 tools/loop.py test-list [--write|--check] [--build DIR] [NN...]"
    positional, found = options(args, {"--write": False, "--check": False, "--build": True}, usage)
    build = os.path.abspath(found.get("--build", BUILD))
    drifted = []
    for folder in [lesson_dir(n) for n in positional] or lessons_with_tests():
        block = f"{LIST_BEGIN}\n{test_list(folder, build)}\n{LIST_END}"
        readme = os.path.join(ROOT, "lessons", folder, "README.md")
        with open(readme) as text:
            current = text.read()
        if LIST_BEGIN in current and LIST_END in current:
            head, rest = current.split(LIST_BEGIN, 1)
            updated = head + block + rest.split(LIST_END, 1)[1]
        else:
            steps = re.search(r"^## Steps\b.*?(?=^## |\Z)", current, re.S | re.M)
            at = steps.end() if steps else len(current)
            updated = current[:at].rstrip("\n") + "\n\n" + block + "\n\n" + current[at:]
        if "--write" in found:
            if updated != current:
                with open(readme, "w") as out:
                    out.write(updated)
                print(f"  wrote the test list into lessons/{folder}/README.md")
        elif "--check" in found:
            ok = updated == current
            print(f"  {'ok' if ok else 'DRIFTED'}  lessons/{folder}/README.md's test list")
            if not ok:
                drifted.append(folder)
        else:
            print(block)
    if drifted:
        say("a README's test list is not the tests': python3 tools/loop.py test-list --write")
        return 1
    return 0


# ---- the manifest: lessons/NN-name/lesson.json, and everything that must agree with it ----


def manifest_problems(folder, build):
    """What in the tests, README.md, HINTS.md, tests/steps/ and tests/mutants/ disagrees with the
    lesson's manifest: [text] (none when they agree)."""
    from wslib import list_cases
    data, problems = manifest(folder), []
    if not data:
        return [f"lessons/{folder}/lesson.json is missing or not JSON"]
    titles = [step["title"] for step in data.get("steps", [])]
    groups = data.get("groups", [])
    binary = built(build, "tests", folder, f"test_{folder[:2]}")
    if not os.path.exists(binary):
        return [f"{shown(binary)} is not built"]
    used = set()
    for name, tags in list_cases(binary):
        for tag in tags:
            step = re.fullmatch(r"step(\d+)", tag)
            if step and not 1 <= int(step.group(1)) <= len(titles):
                problems.append(f"test \"{name}\" is tagged [{tag}]; the manifest has "
                                f"{len(titles)} steps")
            elif not step and tag not in groups:
                problems.append(f"test \"{name}\" is tagged [{tag}], which is no step and no group "
                                "of the manifest")
            used.add(tag)
    problems += [f"no test is tagged [step{k}] ({title})"
                 for k, title in enumerate(titles, 1) if f"step{k}" not in used]
    problems += [f"no test is tagged [{group}], a group of the manifest" for group in groups
                 if group not in used]
    for text, pattern in (("README.md", r"^### Step (\d+): (.+)$"), ("HINTS.md", r"^## Step (\d+): (.+)$")):
        with open(os.path.join(ROOT, "lessons", folder, text)) as file:
            found = [(int(m.group(1)), m.group(2).strip()) for line in file
                     for m in [re.match(pattern, line.rstrip())] if m]
        if found != list(enumerate(titles, 1)):
            problems.append(f"lessons/{folder}/{text}'s step headings are {found}; the manifest's "
                            f"steps are {list(enumerate(titles, 1))}")
    with open(os.path.join(ROOT, "lessons", folder, "HINTS.md")) as file:
        sections = {m.group(1).strip().lower() for line in file
                    for m in [re.match(r"^## (?!Step \d)(.+)$", line.rstrip())] if m}
    problems += [f"lessons/{folder}/HINTS.md has no section '## {group.capitalize()}'"
                 for group in groups if group not in sections]
    patches = {name[:-6] for name in os.listdir(os.path.join(ROOT, "tests", "mutants", folder))
               if name.endswith(".patch")} if os.path.isdir(
                   os.path.join(ROOT, "tests", "mutants", folder)) else set()
    hunts = data.get("hunts", {})
    problems += [f"tests/mutants/{folder}/{name}.patch is not among the manifest's hunts"
                 for name in sorted(patches - set(hunts))]
    for name, hunt in hunts.items():
        if name not in patches:
            problems.append(f"hunt {name} has no tests/mutants/{folder}/{name}.patch")
        if not isinstance(hunt.get("step"), int) or not 1 <= hunt["step"] <= len(titles):
            problems.append(f"hunt {name}: its step ({hunt.get('step')}) is not one of the lesson's")
        if not hunt.get("mistake"):
            problems.append(f"hunt {name} does not say what the mistake is")
    return problems


def cmd_manifest(args):
    """manifest --check [--build DIR] [NN...]: each lesson's tests, README.md, HINTS.md and known-bad
    variants agree with its manifest (CTest's solution.lessons_agree_with_their_manifests)."""
    usage = "usage: python3 tools/loop.py manifest --check [--build DIR] [NN...]"
    positional, found = options(args, {"--check": False, "--build": True}, usage)
    if "--check" not in found:
        die(usage)
    build = os.path.abspath(found.get("--build", BUILD))
    folders = [lesson_dir(n) for n in positional] or [d for d in lesson_dirs() if manifest(d)]
    status = 0
    for folder in folders:
        problems = manifest_problems(folder, build)
        print(f"{folder}: " + ("agrees with lessons/" + folder + "/lesson.json" if not problems
                               else "disagrees with lessons/" + folder + "/lesson.json:"))
        for problem in problems:
            print(f"  - {problem}")
        status |= bool(problems)
    return status


COMMANDS = {"check": cmd_check, "hint": cmd_hint, "status": cmd_status, "watch": cmd_watch,
            "reset": cmd_reset, "doctor": cmd_doctor, "list": cmd_list, "test-list": cmd_test_list,
            "variant": cmd_variant, "hunt": cmd_hunt, "manifest": cmd_manifest}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die(f"usage: python3 tools/loop.py {'|'.join(COMMANDS)} ARGS (./workshop help)")
    try:
        sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.CalledProcessError as failed:
        sys.exit(failed.returncode or 1)
