"""./workshop's commands (`./workshop help`) and CI's checks of the lessons; standard library
only (python3 is all a bare Debian has when ./workshop starts this).

A lesson's tests are one Catch2 executable whose cases carry tags [stepK] (or a group's:
[conventions]). A case belongs to the LAST step it is tagged with: [step1][step4] counts (and its
hint comes) from step 4. A check builds the lesson's program and tests, runs them once with
--results (a JSON line per case) and keeps what they found in .workshop/results/.
HINTS.md: `## Step K: title` (or `## Conventions`), then `### Tier 1`, `### Tier 2`... from the
idea to the code; `### Tier 1 for \u0060name\u0060` replaces tier 1 when that test failed first.
"""
import argparse
import dataclasses
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wslib import (INSTALL, ROOT, build_dir, built, die, ensure_node,  # noqa: E402
                   install_packages, lesson_dir, lesson_dirs, list_cases, manifest, program_of,
                   read, read_json, say)

BUILD = build_dir()
STATE = os.path.join(ROOT, ".workshop")  # results, hint progress, backups: ignored by git
RESULTS = os.path.join(STATE, "results")
HINTS_SEEN = os.path.join(STATE, "hints")
HUNTS = os.path.join(ROOT, "hunts")  # the student's copies of known-bad variants (ignored by git)
HUNTS_SOLVED = os.path.join(STATE, "hunts.json")
JOBS = str(os.cpu_count() or 2)
PYTHON = sys.executable


def shown(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def run(command, **options):
    subprocess.run(command, cwd=ROOT, check=True, **options)


def plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)


def git(*args, check=True):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=check)


def in_git():
    return shutil.which("git") and not git("rev-parse", "--git-dir", check=False).returncode


# ---- installing, configuring, building ----
def configure(folder=BUILD, preset="default", *extra):
    # Once a configure finished (CMake writes the Makefile last), CMake itself configures again
    # whenever a file it read changes.
    if os.path.exists(os.path.join(folder, "Makefile")):
        return
    flags = ["--preset", preset] if preset else []
    say(f"configuring {shown(folder)}/ (cmake{''.join(' ' + flag for flag in flags)})")
    done = subprocess.run(["cmake", *flags, "-B", folder, *extra], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        die(f"configuring {shown(folder)}/ failed (above). Fix it, then run the same command "
            "again: it configures again")


def build(targets, log_path=None, stdout=None):  # its output into log_path, or to stdout
    install_packages(["tools", "build"], "to build and test")
    configure()
    if not targets:
        say(f"building everything ({shown(BUILD)}/)")
    command = ["cmake", "--build", BUILD, "-j", JOBS] + (["--target", *targets] if targets else [])
    if log_path:
        return logged(command, log_path)[0]
    return subprocess.run(command, stdout=stdout).returncode == 0


def logged(command, log_path):  # (whether it succeeded, its output), the output kept in log_path
    with open(log_path, "w") as log:
        done = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return done.returncode == 0, read(log_path)


def show_build_errors(log_path, folder):
    say(f"lesson {folder[:2]} does not compile: fix the FIRST error below "
        "(later ones often follow from it)")
    noise = re.compile(r"^\[ *\d+%\]|^g?make|^Consolidate compiler|^-- ")
    lines = [line.replace(ROOT + "/", "") for line in read(log_path).splitlines()
             if not noise.match(line)]
    first = next((at for at, line in enumerate(lines) if "error" in line), len(lines))
    print("\n".join(lines[first:first + 40]))
    print(f"  (the whole build output: {shown(log_path)})")


# ---- a lesson's tests and their results ----
@dataclasses.dataclass
class Case:  # first_failure() adds .about: the step a failure is about
    name: str
    tags: list
    passed: bool
    failures: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    where: str = ""

    @property
    def steps(self):
        return sorted(int(tag[4:]) for tag in self.tags if re.fullmatch(r"step\d+", tag))

    @property
    def step(self):  # the last step it needs, or its group ("conventions")
        return self.steps[-1] if self.steps else self.tags[0] if self.tags else "other"


def step_label(step):
    return f"step {step}" if isinstance(step, int) else str(step)


def step_order(step):
    return (0, step, "") if isinstance(step, int) else (1, 0, str(step))


def step_arg(value):
    return int(value) if str(value).isdigit() else str(value).lower()


def tests_of(folder, build_folder=BUILD):
    return built(build_folder, "tests", folder, f"test_{folder[:2]}")


def program_in(folder):
    return built(BUILD, "lessons", folder, program_of(folder))


def run_tests(tests, program, spec=None, extra=()):
    """[Case] from the test executable's --results: a JSON line when a case starts and another
    when it ends (tests/support/src/main.cpp); a case that never ended failed; none: its output."""
    with tempfile.TemporaryDirectory(prefix="workshop.") as work:
        results = os.path.join(work, "results.jsonl")
        done = subprocess.run([tests, "--program", program, *extra, *([spec] if spec else []),
                               "--results", results], cwd=ROOT, capture_output=True, text=True,
                              errors="replace")
        lines = read(results).splitlines()
    cases = {}
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if data.get("passed") is None:
            data.update(passed=False,
                        failures=["the test executable stopped in the middle of this case"])
        data["where"] = shown(data.get("where", ""))
        data["failures"] = [text.replace(ROOT + "/", "") for text in data.get("failures", [])]
        cases[data["name"]] = Case(**{key: data[key] for key in data
                                      if key in Case.__dataclass_fields__})
    if not cases:
        sys.stderr.write(done.stdout + done.stderr)
    return list(cases.values())


def fingerprint(folder):
    """Changes whenever a source of the lesson or of its tests is saved, made or removed (not a
    hidden or backup file, nor its README or HINTS.md: they change no result)."""
    digest = hashlib.sha1()
    for tree in ("lessons", "tests"):
        for path in sorted(glob.glob(f"{ROOT}/{tree}/{folder}/**", recursive=True)):
            try:
                info = os.stat(path)
            except OSError:  # removed since
                continue
            if stat.S_ISREG(info.st_mode) and not path.endswith(("~", ".swp", ".md")):
                digest.update(f"{path} {info.st_mtime_ns} {info.st_size}\n".encode())
    return digest.hexdigest()


def saved_results(folder):  # what the last runs found ({} if none), and its [Case]
    saved = read_json(os.path.join(RESULTS, folder + ".json"), {})
    return saved, [Case(**case) for case in saved.get("cases", [])]


def build_and_test(folder, log_name, spec=None, complete=True, testing=None):
    """[Case], or None if the lesson did not build (its errors shown); either is kept for status
    and hint (a run of one step updates only that step's cases)."""
    before, saved = fingerprint(folder), saved_results(folder)[0]
    log_path = os.path.join(BUILD, log_name)
    cases = None
    if build([f"lessons_{folder[:2]}_{program_of(folder)}", f"test_{folder[:2]}"], log_path):
        if testing:
            say(testing)
        cases = run_tests(tests_of(folder), program_in(folder), spec,
                          ["--lesson-readme", f"lessons/{folder}/README.md"])
        if not cases:
            return cases
        known = {} if complete else {case["name"]: case for case in saved.get("cases", [])}
        known.update((case.name, dataclasses.asdict(case)) for case in cases)
        saved = {"cases": list(known.values())}
    saved.update(fingerprint=before, when=time.time(), build="ok" if cases else "failed")
    write(os.path.join(RESULTS, folder + ".json"), json.dumps(saved, indent=1))
    if cases is None:
        show_build_errors(log_path, folder)
    return cases


def by_step(cases):
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
    done = {step for case in cases if case.passed for step in case.steps}
    failing = [case for case in cases if not case.passed]
    for case in failing:
        hint = HINT_STEP.search("\n".join(case.failures))
        case.about = asked if asked is not None else int(hint.group(1)) if hint else next(
            (step for step in case.steps if step not in done), case.step)
    return min(failing, key=lambda case: (step_order(case.about), step_order(case.step)),
               default=None)  # the first of equals


def print_progress(cases):
    say(f"{sum(case.passed for case in cases)} of {plural(len(cases), 'test')} pass")
    for step, step_cases in by_step(cases).items():
        passed = sum(case.passed for case in step_cases)
        mark = "ok" if passed == len(step_cases) else "  "
        print(f"  {mark}  {step_label(step):<12} {passed}/{len(step_cases)} tests pass")


def print_failure(failing, cases):
    step = failing.about
    label = step_label(step)
    mine = ([case for case in cases if case.step == step]
            or [case for case in cases if step in case.steps])
    failing_ones = [case for case in mine if not case.passed]
    if not any(case.passed for case in cases) and len(cases) > 1:
        state = f"every test fails: 0 of {len(cases)} pass"
    elif failing not in mine:  # a test of another step, whose story's hint names this one
        state = f"a test of {step_label(failing.step)}; what it saw is about {label}"
    elif len(mine) == 1:
        state = f"the only test of {label}"
    elif len(failing_ones) == 1:
        state = f"the only one of {label} that fails: {len(mine) - 1} of {len(mine)} pass"
    else:
        state = f"{len(failing_ones)} of {len(mine)} tests of {label} fail"
    say(f"the first failing test of {label}: \"{failing.name}\" ({state})")
    if failing.where:
        print(f"  the test: {failing.where}")
    for failure in failing.failures:
        print()
        for line in failure.strip().splitlines():
            print(f"  {line.rstrip()}" if line.strip() else "")
    print()


def print_rows(rows, width=34):
    for command, what in rows:
        print(f"  {command:<{width}} {what}")


# ---- HINTS.md ----
def read_hints(folder):
    """{key: (title, {(tier, test name or None): text})}: HINTS.md's sections, by a step's number
    or a group's name in lower case."""
    sections = {}
    for chunk in re.split(r"^## ", read(os.path.join(ROOT, "lessons", folder, "HINTS.md")),
                          flags=re.M)[1:]:
        title, _, body = chunk.partition("\n")
        title = title.strip()
        step = re.match(r"(?i)step (\d+)\b", title)
        parts = re.split(r"^### Tier (\d+)(?: for `(.+)`)?[ \t]*$", body, flags=re.M)
        tiers = {(int(number), test): tier.strip("\n")
                 for number, test, tier in zip(parts[1::3], parts[2::3], parts[3::3])}
        key = int(step.group(1)) if step else title.split(":")[0].strip().lower()
        sections.setdefault(key, (title, tiers))
    return sections


def last_tier(sections, step):  # 0: no hints for that step
    return max([tier for tier, test in sections.get(step, ("", {}))[1] if test is None], default=0)


def print_hint(folder, step, tier, failing_case=None):
    sections = read_hints(folder)
    last = last_tier(sections, step)
    if not last:
        print(f"  (no hints written for {step_label(step)} yet: read lessons/{folder}/README.md)")
        return 0
    title, tiers = sections[step]
    tier = min(tier, last)
    named = tiers.get((tier, failing_case.name)) if failing_case else None
    say(f"hint for {title} (tier {tier} of {last}"
        f"{'' if named is None else ' for the test that failed'})")
    text = tiers.get((tier, None), "") if named is None else named
    for line in re.sub(r"\n{3,}", "\n\n", text).splitlines():
        print(f"  {line}" if line else "")
    write(os.path.join(HINTS_SEEN, f"{folder}-step{step}"), f"{tier}\n")
    return last


# ---- the student's loop ----
def check_lesson(folder, step=None):
    nn, one = folder[:2], step is not None
    if not os.path.exists(os.path.join(ROOT, "tests", folder, "CMakeLists.txt")):
        die(f"lesson {nn} has no tests yet (tests/{folder})")
    say(f"building your lesson {nn} (lessons/{folder}) and its tests")
    spec = f"[{step}]" if one else None
    if isinstance(step, int):  # the cases that belong to it: tagged with it and no later step
        last = len(manifest(folder).get("steps", []))
        spec = f"[step{step}]" + "".join(f"~[step{later}]" for later in range(step + 1, last + 1))
    cases = build_and_test(folder, "last-check-build.log", spec, not one,
                           f"testing {f'step {step} of ' if one else ''}lesson {nn} "
                           f"against your program ({shown(program_in(folder))})")
    if cases is None:
        return 1
    if not cases and isinstance(step, int):
        print(f"  (no test belongs to step {step} alone: running the tests that need it with a "
              "later step)")
        cases = build_and_test(folder, "last-check-build.log", f"[step{step}]", False)
    if not cases:
        die("the tests did not run (see above)" + (
            f"; does step {step} exist? ./workshop hint {nn} lists the steps" if one else ""))
    print_progress(cases)
    failing, tests = first_failure(cases, step), plural(len(cases), "test")
    if failing is None and one:
        say(f"step {step} passes ({tests}). The whole lesson: ./workshop check {nn}")
        return 0
    if failing is None:
        say(f"lesson {nn} passes: all {tests}.")
        print(f"  Compare with the reference solution:  diff -u lessons/{folder} "
              f"solutions/{folder}")
        later = [other for other in lesson_dirs() if other > folder]
        print(f"  Next: lesson {later[0][:2]} ({later[0][3:]}): read lessons/{later[0]}/README.md, "
              f"then ./workshop check {later[0][:2]}" if later else
              "  That was the last lesson. ./workshop status shows them all.")
        return 0
    print_failure(failing, cases)
    print_hint(folder, failing.about, 1, failing)
    say("what next")
    about = failing.about
    rows = [(f"./workshop check {nn}", "run the tests again")]
    if isinstance(about, int):
        files = [shown(path) for path in sorted(glob.glob(f"{ROOT}/lessons/{folder}/*.[ch]*"))
                 if path.endswith((".cpp", ".hpp", ".h"))
                 and re.search(rf"TODO step {about}(?!\d)", read(path))]
        print(f"  Read step {about} in lessons/{folder}/README.md"
              + (f", then edit {' '.join(files)} (TODO step {about})" if files else ""))
        rows = [(f"./workshop check {nn} --step {about}",
                 "run these tests again" if one else f"run only step {about}'s tests")]
    else:
        print(f"  Read lessons/{folder}/README.md; what you changed: git diff lessons/{folder}")
    print_rows(rows + [(f"./workshop hint {nn} {about} --more", "a more explicit hint"),
                       (f"./workshop watch {nn}", "check again on every save")])
    return 1


def cmd_watch(args):
    folder = args.folder
    try:
        while True:
            last = fingerprint(folder)
            if sys.stdout.isatty():
                print("\033[H\033[2J", end="", flush=True)
            try:
                check_lesson(folder, args.step)
            except SystemExit:
                pass
            say(f"watching lessons/{folder} (looking every second): save a file to check again, "
                "Ctrl-C to stop")
            while fingerprint(folder) == last:  # cheap, and sees saves inotify misses on shares
                time.sleep(1)
            time.sleep(0.3)  # let the editor finish writing (some save through a temporary file)
    except KeyboardInterrupt:
        print()
        say(f"stopped watching lessons/{folder}")
        return 0


def cmd_hint(args):
    folder, nn, step = args.folder, args.folder[:2], args.k
    sections = read_hints(folder)
    titles = "".join(f"  {title}\n" for title, _ in sections.values())
    if not sections:
        die(f"lesson {nn} has no hints yet: read lessons/{folder}/README.md")
    saved, cases = saved_results(folder)
    fresh = saved.get("fingerprint") == fingerprint(folder) and saved.get("build") == "ok"
    if step is None and not fresh:
        say(f"finding the first step whose tests fail (building lesson {nn}, running its tests)")
        cases, fresh = build_and_test(folder, "last-check-build.log"), True
        if cases is None:
            return 1
    failing = first_failure(cases) if fresh else None
    if step is None and failing is None:
        say(f"every test of lesson {nn} passes: no hint needed. Hints for one step: "
            f"./workshop hint {nn} K")
        print(titles, end="")
        return 0
    if step is None:
        step = failing.about
        print(f"  (the test that fails first: \"{failing.name}\")")
    if not last_tier(sections, step):
        sys.stderr.write(f"No hints for {step_label(step)} of lesson {nn}. The steps with hints:\n"
                         + titles)
        return 2
    seen = read(os.path.join(HINTS_SEEN, f"{folder}-step{step}")).strip()
    tier = int(seen) + 1 if args.more and seen.isdigit() else 1
    tiers = print_hint(folder, step, tier, failing if failing and failing.about == step else None)
    print(f"  More: ./workshop hint {nn} {step} --more" if tier < tiers else
          f"  That is the last tier. The reference: solutions/{folder}/")
    return 0


def lessons_with_tests():
    return [folder for folder in lesson_dirs() if program_of(folder)
            and os.path.exists(os.path.join(ROOT, "tests", folder, "CMakeLists.txt"))
            and os.path.exists(os.path.join(ROOT, "lessons", folder, "CMakeLists.txt"))]


def cmd_status(args):
    folders = args.lessons or lessons_with_tests()
    if not folders:
        die("no lesson has tests yet")
    rows = []
    for folder in folders:
        if args.rerun:  # without it, status only reads what earlier checks recorded
            say(f"lesson {folder[:2]}: building and running its tests")
            build_and_test(folder, f"last-status-{folder[:2]}.log")
        saved, cases = saved_results(folder)
        stale = bool(saved) and saved.get("fingerprint") != fingerprint(folder)
        rows.append((folder, saved, by_step(cases), first_failure(cases), stale))
    steps = range(1, max([step for row in rows for step in row[2] if isinstance(step, int)],
                         default=0) + 1)

    def cell(cases):
        passed = sum(case.passed for case in cases)
        return ("ok " if passed == len(cases) else "") + f"{passed}/{len(cases)}" if cases else ""

    print(f"\n{'lesson':<24}" + "".join(f"{'step ' + str(step):<9}" for step in steps)
          + f"{'other':<13}next")
    for folder, saved, table, failing, stale in rows:
        nn = folder[:2]
        line = f"{nn + ' ' + folder[3:] + (' *' if stale else ''):<24}"
        others = [case for step, cases in table.items() if not isinstance(step, int)
                  for case in cases]
        if not saved:
            line += f"not started: ./workshop check {nn}"
        elif saved.get("build") == "failed":
            line += f"does not compile: ./workshop check {nn} shows the error"
        else:
            line += "".join(f"{cell(table.get(step, [])):<9}" for step in steps)
            line += f"{cell(others):<13}"
            line += ("done" if failing is None else f"./workshop check {nn} --step {failing.about}"
                     if isinstance(failing.about, int) else
                     f"./workshop check {nn}   ({failing.about})")
        print(line)
    print("\nEach cell: tests that pass / tests of that step (a test counts for the last step it "
          "needs); ok: all pass.\nother: the tests that belong to no step (conventions: --help, "
          "bad flags, signals; and the like).")
    if any(row[4] for row in rows):
        print("*: edited since these results: ./workshop check NN (or status --rerun) runs it "
              "again.")
    solved = set(read_json(HUNTS_SOLVED, []))
    print("Bug hunts solved (./workshop hunt NN): " + ", ".join(
        f"{folder[:2]} {sum(f'{folder[:2]}-{name}' in solved for name in hunts_of(folder))}"
        f"/{len(hunts_of(folder))}" for folder in folders if hunts_of(folder)))
    when = max((row[1].get("when", 0) for row in rows), default=0)
    print((f"From the last runs (latest {time.strftime('%H:%M', time.localtime(when))}); "
           if when else "Nothing checked yet; ") + "./workshop status --rerun builds and runs "
          "them all now.")
    return 0


def cmd_reset(args):
    folder = args.folder
    if not in_git():
        die("reset needs the git clone of the workshop")
    if git("cat-file", "-e", f"HEAD:lessons/{folder}", check=False).returncode:
        die(f"lessons/{folder} is not in git's HEAD: nothing to restore")
    changes = git("status", "--short", "--untracked-files=all", "--", f"lessons/{folder}").stdout
    if not changes.strip():
        say(f"lessons/{folder} is already the untouched skeleton: nothing to do")
        return 0
    print(f"Your changes in lessons/{folder}:")
    print("\n".join("  " + line for line in changes.rstrip("\n").splitlines()))
    backup = shown(os.path.join(STATE, "backup", f"{folder}-{time.strftime('%Y%m%d-%H%M%S')}"))
    try:
        answer = "y" if args.yes else input(f"Put the skeleton back? Your files are kept in "
                                            f"{backup}/ [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        say("nothing changed")
        return 1
    shutil.copytree(os.path.join(ROOT, "lessons", folder), os.path.join(ROOT, backup))
    git("checkout", "HEAD", "--", f"lessons/{folder}")
    git("clean", "-fdq", "--", f"lessons/{folder}")
    for name in glob.glob(os.path.join(HINTS_SEEN, folder + "-*")):
        os.unlink(name)
    say(f"lessons/{folder} is the skeleton again. Your work: {backup}/")
    print(f"  To see what you had: diff -ru lessons/{folder} {backup}")
    print(f"  To bring it back:    cp -a {backup}/. lessons/{folder}/")
    return 0


def cmd_list(args):
    for folder in lesson_dirs():
        print(f"  {folder[:2]}  {folder[3:]:<22} {program_of(folder) or ''}")
    return 0


# ---- known-bad variants: the mistakes in tests/mutants/, hunted by students and by CI ----
def hunts_of(folder):
    return {name: (os.path.join(ROOT, "tests", "mutants", folder, name + ".patch"), hunt["step"],
                   hunt["mistake"]) for name, hunt in manifest(folder).get("hunts", {}).items()}


def cmd_variant(args):
    """CTest's mutant.NN.<mistake>: the lesson's tests must fail against the known-bad variant,
    and the first failure be about the step the manifest gives the mistake, as ./workshop check
    would tell a student who made it."""
    folder, name = os.path.basename(os.path.dirname(args.patch)), os.path.basename(args.patch)[:-6]
    _, step, about = hunts_of(folder).get(name, (None, None, ""))
    print(f"known-bad variant {shown(args.patch)}: {about}")
    if step is None:
        print("  lessons/NN-name/lesson.json lists no such hunt: add it there, with its step")
        return 1
    if not os.access(args.program, os.X_OK):
        print(f"  {args.program} is not built (else every test would fail and it would look "
              "caught)")
        return 1
    cases = run_tests(args.tests, args.program)
    failing = first_failure(cases)
    if failing is None:
        print(f"  HOLE: all {len(cases)} test cases pass against it. Add a test that catches it."
              if cases else "  the tests did not run")
        return 1
    print(f"  caught by {sum(not case.passed for case in cases)} of {len(cases)} test cases:")
    print("".join(f"    - {case.name}\n" for case in cases if not case.passed), end="")
    if failing.about != step:
        print(f"  but ./workshop check would send the student to {step_label(failing.about)} "
              f"(first failure: \"{failing.name}\"), and the mistake is in step {step}: make a "
              f"step-{step} test catch it, or the story's hint name step {step}")
        return 1
    print(f"  ./workshop check names step {step}, where the mistake is")
    return 0


def cmd_hunt(args):
    """Bug hunt K of lesson NN (by default the first unsolved): the reference solution with one
    real mistake in it (tests/mutants/); its tests fail, the story shows what happened, and the
    student fixes the mistake in a copy (hunts/NN-K/); --check tests the fixed copy and, once it
    passes, tells what the mistake was. Hunts go by number: a name would give the mistake away."""
    folder, nn = args.folder, args.folder[:2]
    hunts, solved = hunts_of(folder), set(read_json(HUNTS_SOLVED, []))
    names = list(hunts)
    unsolved = [number for number, name in enumerate(names, 1) if f"{nn}-{name}" not in solved]
    if not hunts:
        die(f"lesson {nn} has no hunts")
    if args.list:
        say(f"lesson {nn}'s bug hunts ({len(names) - len(unsolved)} of {len(names)} solved)")
        for number, (_, step, mistake) in enumerate(hunts.values(), 1):
            done = number not in unsolved
            print(f"  {number:>2}  {'solved' if done else '      '}  a mistake in step {step}"
                  + (f": {mistake}" if done else ""))
        return 0
    number = args.k or (unsolved + [None])[0]
    if number is None:
        say(f"every hunt of lesson {nn} is solved. ./workshop hunt {nn} --list")
        return 0
    if not 1 <= number <= len(names):
        die(f"lesson {nn} has hunts 1 to {len(names)}: ./workshop hunt {nn} --list")
    name = names[number - 1]
    patch, step, mistake = hunts[name]
    copy = os.path.join(HUNTS, f"{nn}-{number}")
    log_path = os.path.join(BUILD, "last-hunt-build.log")
    files = re.findall(r"^\+\+\+ b/(\S+)", read(patch), re.M)
    if args.check:
        if not os.path.isdir(copy):
            die(f"no copy to check: ./workshop hunt {nn} {number} makes it")
        install_packages(["tools", "build"], "to build and test")
        configure()
        run(["cmake", "-S", ROOT, "-B", BUILD], stdout=subprocess.DEVNULL)  # the copy is new
        say(f"building your fixed copy ({shown(copy)}/) with the rest of the reference solution")
        target, program = f"hunt_{nn}_{number}", os.path.join(BUILD, "hunts", f"{nn}-{number}")
    else:
        say(f"bug hunt {number} of {len(names)} (lesson {nn}): the reference solution with ONE "
            "real mistake in it")
        target, program = f"mutant_{nn}_{name}", os.path.join(BUILD, "mutants", folder, name)
    if not build([target, f"test_{nn}"], log_path):
        show_build_errors(log_path, folder)
        return 1
    cases = run_tests(tests_of(folder), os.path.join(program, program_of(folder)))
    print_progress(cases)
    failing = first_failure(cases)
    if failing is not None:
        print_failure(failing, cases)
    if args.check and (failing is not None or not cases):
        say(f"not yet: edit {shown(copy)}/ again, then ./workshop hunt {nn} {number} --check")
        return 1
    if args.check:
        say(f"solved: the mistake was in step {step}: {mistake}")
        print("  The mistake, as a diff from the reference solution:")
        print("".join(f"    {line}\n" for line in read(patch).splitlines()[1:]), end="")
        write(HUNTS_SOLVED, json.dumps(sorted(solved | {f"{nn}-{name}"}), indent=1))
        left = len(unsolved) - (number in unsolved)
        print(f"  Next: ./workshop hunt {nn}" + (f" ({left} left)" if left else
                                                   f" --list (all {len(names)} solved)"))
        return 0
    if not os.path.isdir(copy):
        for file in files:
            os.makedirs(os.path.dirname(os.path.join(copy, file)), exist_ok=True)
            shutil.copy(os.path.join(program, "src", file), os.path.join(copy, file))
    say("your hunt")
    print(f"  The mistake is in {' '.join(shown(os.path.join(copy, file)) for file in files)} "
          f"(your copy; the rest of the program is solutions/{folder}/).")
    print("  Read the story above: what did the client see, and what should it have seen? Which\n"
          "  step of the lesson promises that? Find the lines that break it and fix them there.")
    print_rows([(f"./workshop hunt {nn} {number} --check", "test your fix (then see the mistake)"),
                (f"./workshop hunt {nn} --list", "every hunt of this lesson")], 40)
    return 1


# ---- doctor ----
# The versions CI builds and tests with: Debian 12 (bookworm) and Debian 13 (trixie).
TESTED = {"g++": ("12.", "14."), "cmake": ("3.25.", "3.31."), "libasio-dev": ("1.22.", "1.30."),
          "libhiredis-dev": ("0.14.", "1.2."), "catch2": ("2.13.",), "libcatch2-dev": ("3.7.",),
          "redis-server": ("7.0.", "8.0."), "python3": ("3.11.", "3.13.")}
COROUTINES = "#include <asio.hpp>\nasio::awaitable<int> f() { co_return 42; }\nint main() {}\n"


def cmd_doctor(args):
    try:
        system = platform.freedesktop_os_release()
    except OSError:
        system = {}
    tested = (system.get("ID"), system.get("VERSION_CODENAME")) in (("debian", "bookworm"),
                                                                     ("debian", "trixie"))
    say(f"this is {system.get('PRETTY_NAME', 'an unknown system (no /etc/os-release)')}: " + (
        "CI tests the workshop on it" if tested else "NOT one CI tests (Debian 12 and 13 are); it "
        "may work, and the container does (README: On macOS or Windows)"))
    say("checking what the workshop needs (tools/requirements.txt says who installs what)")
    needs = read(os.path.join(ROOT, "tools", "requirements.txt")).splitlines()
    rows = [line.split(None, 3) for line in needs if line.strip() and not line.startswith("#")]
    here = subprocess.run([INSTALL, "--list", *[row[0] for row in rows]], capture_output=True,
                          text=True, check=True).stdout.split()  # NAME@release: only there
    rows = [(package.partition("@")[0], command, need, what.strip())
            for package, command, need, what in rows if package.partition("@")[0] in here]
    listed = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Package}|${Version}\n",
                             *[row[0] for row in rows]], capture_output=True, text=True).stdout
    versions = {package: re.match(r"(?:\d+:)?([\d.]+\d)?", version).group(1) or ""
                for status, package, version in (line.split("|") for line in listed.splitlines())
                if status.startswith("ii")}  # Debian's version, no epoch, no revision
    fix_now = []
    for package, command, need, what in rows:
        name, version = package if command == "-" else command, versions.get(package, "")
        present = package in versions if command == "-" else shutil.which(command)
        if present and package == "g++":  # and it compiles Asio's coroutines
            compiles = subprocess.run(["g++", "-std=c++20", "-fsyntax-only", "-x", "c++", "-"],
                                      input=COROUTINES, capture_output=True, text=True)
            present = compiles.returncode == 0
            version += ", C++20 coroutines (asio::awaitable compiles)"
        ci_series = TESTED.get(package, ())
        if present and ci_series and version[:1].isdigit() and not version.startswith(ci_series):
            print(f"  WARNING   {name:<20} {what}  [{version}]  (CI tests "
                  f"{' and '.join(series + 'x' for series in ci_series)})")
        elif present:
            print(f"  ok        {name:<20} {what}" + (f"  [{version}]" if version else ""))
        else:  # who needs it ("needed by" in tools/requirements.txt) says how bad that is
            state = {"tools": "MISSING", "build": "MISSING", "run": "later"}.get(need, "optional")
            print(f"  {state:<9} {name:<20} {what}  (package {package}"
                  + (": installed by that command)" if need == "run" else ")"))
            fix_now += [package] if state == "MISSING" else []
    configured = os.path.exists(os.path.join(BUILD, "Makefile"))
    made = "is configured" if configured else "is made by the first ./workshop check, run or test"
    print(f"  {'ok' if configured else 'later':<9} {'build folder':<20} {shown(BUILD)}/ {made}\n")
    if not fix_now:
        say("everything the lessons need is in place. Start with: ./workshop check 01")
        return 0
    sudo = "" if os.geteuid() == 0 else "sudo "
    say("missing for the lessons (./workshop check, run and test install these themselves):")
    print(f"  {sudo}apt-get update && {sudo}apt-get install -y --no-install-recommends "
          + " ".join(fix_now))
    return 1


# ---- CI's checks of the lessons themselves ----
LIST_BEGIN, LIST_END = "<!-- tests:begin -->", "<!-- tests:end -->"
TEST_LIST = re.compile(f"{LIST_BEGIN}.*?{LIST_END}", re.S)  # in each lesson's README.md


def listed_cases(build_folder, folder):  # [Case] as the test executable lists them, None unbuilt
    binary = tests_of(folder, build_folder)
    if os.path.exists(binary):
        return [Case(name, tags, False) for name, tags in list_cases(binary)]
    return None


def test_list(folder, cases):  # what a lesson's README lists between the tests:begin/end markers
    lines = [LIST_BEGIN, f"The tests, by step: {plural(len(cases), 'test')} (generated from "
             f"tests/{folder}/ by `python3 tools/loop.py test-list --write`; CI checks it):", ""]
    for step, step_cases in by_step(cases).items():
        run_one = (f"; `./workshop check {folder[:2]} --step {step}`"
                   if isinstance(step, int) else "")
        lines.append(f"- **{step_label(step).capitalize()}** "
                     f"({plural(len(step_cases), 'test')}{run_one})")
        lines.extend(f"  - {case.name}" for case in step_cases)
    return "\n".join(lines + [LIST_END])


def cmd_test_list(args):  # prints each lesson's test list, or writes it into its README (--write)
    for folder in args.lessons or lessons_with_tests():
        cases = listed_cases(args.build, folder)
        if cases is None:
            die(f"{shown(tests_of(folder, args.build))} is not built: "
                f"./workshop build test_{folder[:2]}")
        readme = os.path.join(ROOT, "lessons", folder, "README.md")
        current, block = read(readme), test_list(folder, cases)
        if not args.write:
            print(block)
            continue
        if not TEST_LIST.search(current):
            die(f"lessons/{folder}/README.md has no {LIST_BEGIN} ... {LIST_END}: put the two "
                "lines where the list goes (the end of its Steps section)")
        updated = TEST_LIST.sub(lambda _: block, current, count=1)
        if updated != current:
            write(readme, updated)
            print(f"  wrote the test list into lessons/{folder}/README.md")
    return 0


def manifest_problems(folder, build_folder):
    """What in the tests, README.md, HINTS.md and tests/mutants/ disagrees with the lesson's
    manifest: [text] (none when they agree)."""
    data, problems = manifest(folder), []
    if not data:
        return [f"lessons/{folder}/lesson.json is missing or not JSON"]
    titles = list(enumerate([step["title"] for step in data.get("steps", [])], 1))
    groups, hunts = data.get("groups", []), data.get("hunts", {})
    cases = listed_cases(build_folder, folder)
    if cases is None:
        return [f"{shown(tests_of(folder, build_folder))} is not built"]
    for case in cases:
        for tag in case.tags:
            if re.fullmatch(r"step\d+", tag) and not 1 <= int(tag[4:]) <= len(titles):
                problems.append(f"test \"{case.name}\" is tagged [{tag}]; the manifest has "
                                f"{len(titles)} steps")
            elif not re.fullmatch(r"step\d+", tag) and tag not in groups:
                problems.append(f"test \"{case.name}\" is tagged [{tag}], which is no step and no "
                                "group of the manifest")
    used = {tag for case in cases for tag in case.tags}
    problems += [f"no test is tagged [step{number}] ({title})" for number, title in titles
                 if f"step{number}" not in used]
    problems += [f"no test is tagged [{group}], a group of the manifest" for group in groups
                 if group not in used]
    for text, heading in (("README.md", "###"), ("HINTS.md", "##")):
        found = [(int(match.group(1)), match.group(2).strip()) for match in re.finditer(
            rf"^{heading} Step (\d+): (.+)$",
            read(os.path.join(ROOT, "lessons", folder, text)), re.M)]
        if found != titles:
            problems.append(f"lessons/{folder}/{text}'s step headings are {found}; the manifest's "
                            f"steps are {titles}")
    problems += [f"lessons/{folder}/HINTS.md has no section '## {group.capitalize()}'"
                 for group in groups if group not in read_hints(folder)]
    listed = TEST_LIST.search(read(os.path.join(ROOT, "lessons", folder, "README.md")))
    if not listed or listed.group() != test_list(folder, cases):
        problems.append(f"lessons/{folder}/README.md's test list (between {LIST_BEGIN} and "
                        f"{LIST_END}) is not the tests': python3 tools/loop.py test-list --write")
    patches = {os.path.basename(path)[:-6] for path in glob.glob(
        os.path.join(ROOT, "tests", "mutants", folder, "*.patch"))}
    problems += [f"tests/mutants/{folder}/{name}.patch is not among the manifest's hunts"
                 for name in sorted(patches - set(hunts))]
    for name, hunt in hunts.items():
        if name not in patches:
            problems.append(f"hunt {name} has no tests/mutants/{folder}/{name}.patch")
        if not isinstance(hunt.get("step"), int) or not 1 <= hunt["step"] <= len(titles):
            problems.append(f"hunt {name}: its step ({hunt.get('step')}) is not one of the "
                            "lesson's")
        if not hunt.get("mistake"):
            problems.append(f"hunt {name} does not say what the mistake is")
    return problems


def cmd_manifest(args):  # CTest's solution.lessons_agree_with_their_manifests; --check is implied
    status = 0
    for folder in args.lessons or [folder for folder in lesson_dirs() if manifest(folder)]:
        problems = manifest_problems(folder, args.build)
        print(f"{folder}: {'disagrees' if problems else 'agrees'} with lessons/{folder}/lesson.json"
              + (":" if problems else ""))
        print("".join(f"  - {problem}\n" for problem in problems), end="")
        status |= bool(problems)
    return status


# C++ in pieces: a comment (group 1), a string or character literal, other code.
CPP = re.compile(r"(//[^\n]*|/\*.*?\*/)|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|[^/\"']+|.",
                 re.S)


def cpp_lines(path, comments):
    """A C++ file's code lines (comments=False) or comment lines, each white space folded."""
    def keep(piece):
        blank = re.sub(r"[^\n]", " ", piece.group())
        if bool(piece.group(1)) != comments:
            return blank
        return "  " + piece.group()[2:] if comments else piece.group()
    text = CPP.sub(keep, read(path))
    return [re.sub(r"\s+", " ", line).strip() for line in text.split("\n")]


def cmd_answers(args):
    """No lesson gives its answers away: no comment in lessons/NN-*/*.cpp|hpp and no line of its
    README.md holds a code line of solutions/NN-*/ (at least 25 characters once comments are
    stripped and white space folded). The code belongs in HINTS.md's last tier."""
    hits = []
    for folder in args.lessons or lesson_dirs():
        def sources(tree):
            return sorted(glob.glob(os.path.join(ROOT, tree, folder, "**", "*.[ch]pp"),
                                    recursive=True))
        answers = {line for path in sources("solutions") for line in cpp_lines(path, False)
                   if len(line) >= 25}
        places = [(path, number, line) for path in sources("lessons")
                  for number, line in enumerate(cpp_lines(path, True), 1) if line]
        readme = os.path.join(ROOT, "lessons", folder, "README.md")
        places += [(readme, number, re.sub(r"\s+", " ", line).strip())
                   for number, line in enumerate(read(readme).splitlines(), 1)]
        hits += [(path, number, answer) for path, number, text in places
                 for answer in [next((code for code in answers if code in text), None)] if answer]
    for path, number, answer in hits:
        print(f"{shown(path)}:{number}: gives away the solution's line: {answer}")
    if hits:
        print(f"{len(hits)} place(s) in lessons/ show a line of the solution: say what must "
              "happen, and leave the code to the hints (HINTS.md, tier 3)")
        return 1
    print("no lesson shows a line of its solution in a comment or its README")
    return 0


# ---- the builds around the loop, and the live system ----
def cmd_install(args):
    what = args.what or ["tools", "build", "run"]
    install_packages(what, f"./workshop install {' '.join(what)}")
    return 0


def cmd_test(args):
    if args.against:
        install_packages(["tools", "build"], "to build and test")
        ensure_node("reference/node")
        configure()
        os.execv(PYTHON, [PYTHON, os.path.join(ROOT, "reference", "node", "against_node.py"),
                          "--lessons", *[folder[:2] for folder in args.lessons]])
    if not build([]):
        return 1
    if in_git() and git("status", "--porcelain", "--", "lessons").stdout.strip():
        say("lessons/ has your changes: running the solutions' tests only (the skeleton check "
            "needs untouched lessons; your code: ./workshop check NN)")
        command = ["ctest", "--preset", "solutions", "--test-dir", BUILD, "-j", JOBS]
    else:
        say("running every solution's tests, the skeleton check (each step test must fail on the "
            "untouched skeleton) and the mutants")
        command = ["ctest", "--preset", "default", "--test-dir", BUILD]
    return subprocess.run(command, cwd=ROOT).returncode


# What the lesson's README tries a program with besides nc: curl for HTTP, redis-cli for Redis.
TRY_WITH = {"hello_http": ["curl"], "distributed_chat": ["redis-tools"]}


def cmd_run(args):
    folder, program = args.folder, program_of(args.folder)
    install_packages(["netcat-openbsd", *TRY_WITH.get(program, [])],
                     f"to try it as lessons/{folder}/README.md shows")
    if not build([f"solutions_{folder[:2]}_{program}"], os.devnull):
        die(f"solutions/{folder} does not build: ./workshop build solutions_{folder[:2]}_{program}")
    path = os.path.join(BUILD, "solutions", folder, program)
    say(f"starting the REFERENCE solution {shown(path)} {' '.join(args.rest)} "
        f"(yours: ./workshop check {folder[:2]})")
    os.execv(path, [path, *args.rest])


def cmd_slides(args):
    os.environ.setdefault("CHROME_PATH", "/usr/bin/chromium")
    if not os.access(os.environ["CHROME_PATH"], os.X_OK):
        install_packages(["chromium"], "the slides' PDF and PNG")
    ensure_node("slides")
    say("building the decks into slides/build/")
    return subprocess.run([os.path.join(ROOT, "slides", "build.sh")], cwd=ROOT).returncode


def cmd_compare(args):
    compare = [PYTHON, os.path.join(ROOT, "benchmarks", "compare", "compare.py")]
    if {"-h", "--help"} & set(args.rest):  # its help at once, before minutes of building
        os.execv(PYTHON, [*compare, "--help"])
    release = os.environ.get("WORKSHOP_RELEASE_BUILD") or os.path.join(ROOT, "build-release")
    install_packages(["tools", "build", "libbenchmark-dev", "wrk", "gnuplot-nox"],
                     "./workshop compare")
    ensure_node("reference/node")
    configure(release, "release")
    say("building the C++ solutions and the load tools (release)")
    targets = [f"solutions_{folder[:2]}_{program_of(folder)}" for folder in lesson_dirs()] + [
        "bench_01_hello_load", "bench_02_connect_load", "bench_03_chat_load", "bench_05_proxy",
        "bench_03_write_floor"]
    run(["cmake", "--build", release, "-j", JOBS, "--target", *targets], stdout=subprocess.DEVNULL)
    say(f"Node.js vs C++ on the same load{', quick' if '--quick' in args.rest else ''}: "
        "a few minutes")
    os.execv(PYTHON, [*compare, "--release-dir", release, *args.rest])


def cmd_sanitize(args):
    """The solutions and their tests under ASan + UBSan (build-asan/, or WORKSHOP_ASAN_BUILD),
    run with ctest's asan preset: a sanitizer report fails the test that ran the program."""
    folder = os.environ.get("WORKSHOP_ASAN_BUILD") or os.path.join(ROOT, "build-asan")
    install_packages(["tools", "build"], "to build and test")
    configure(folder, "asan")
    listed = subprocess.run(["cmake", "--build", folder, "--target", "help"], capture_output=True,
                            text=True)
    targets = re.findall(r"^\.\.\. ((?:test|solutions)_[a-z0-9_]*)", listed.stdout, re.M)
    say(f"building the solutions and their tests with ASan and UBSan ({shown(folder)}/)")
    run(["cmake", "--build", folder, "-j", JOBS, "--target", *targets])
    say("running the solutions' tests under the sanitizers (ctest --preset asan)")
    return subprocess.run(["ctest", "--preset", "asan", "--test-dir", folder], cwd=ROOT).returncode


def cmd_fuzz(args):
    """Fuzzes each parser that reads what strangers send (fuzz/, libFuzzer, clang) for N seconds
    from its seeds in fuzz/corpus/TARGET (build-fuzz/, or WORKSHOP_FUZZ_BUILD)."""
    folder = os.environ.get("WORKSHOP_FUZZ_BUILD") or os.path.join(ROOT, "build-fuzz")
    install_packages(["fuzz", "cmake", "make", "nlohmann-json3-dev"], "./workshop fuzz")
    configure(folder, "", "-S", "fuzz", "-DCMAKE_CXX_COMPILER=clang++")
    say("building the fuzz targets (clang, libFuzzer, ASan, UBSan)")
    ok, text = logged(["cmake", "--build", folder, "-j", JOBS], os.path.join(folder, "build.log"))
    if not ok:
        sys.stderr.write(text)
        return 1
    failed = []
    os.makedirs(os.path.join(folder, "crashes"), exist_ok=True)
    for target in sorted(os.listdir(os.path.join(ROOT, "fuzz", "corpus"))):
        corpus = os.path.join(folder, "corpus", target)  # it grows here; the seeds are only read
        os.makedirs(corpus, exist_ok=True)
        say(f"fuzzing {target} for {args.seconds} s")
        ok, text = logged([os.path.join(folder, target), corpus, f"fuzz/corpus/{target}",
                           f"-max_total_time={args.seconds}",
                           f"-artifact_prefix={folder}/crashes/{target}-"],
                          os.path.join(folder, target + ".log"))
        if ok:

            for runs, seconds in re.findall(r"^Done (\d+) runs in (\d+) second", text, re.M):
                print(f"  {runs} inputs in {seconds} s, no crash")
            continue
        at = re.search(r"invariant broken|ERROR: |runtime error|SUMMARY", text)
        sys.stderr.write("\n".join(text[at.start() if at else 0:].splitlines()[:40]) + "\n")
        sys.stderr.write(f"  reproduce: {shown(folder)}/{target} {shown(folder)}/crashes/"
                         f"{target}-<the file named above>\n")
        failed.append(target)
    say(f"fuzzing found a crash in: {' '.join(failed)}" if failed else
        f"every fuzz target ran {args.seconds} s without a crash")
    return 1 if failed else 0


def cmd_live(args):
    if args.command != "demo":
        install_packages(["iproute2"], "top and drills read connections with ss")
    else:
        install_packages(["netcat-openbsd"], "to join the demo with nc")
    asks_help = {"-h", "--help"} & set(args.rest)
    if args.command == "demo" and "--no-build" not in args.rest and not asks_help:
        say("building what the demo runs (lessons 04 and 05's solutions, the chat bot)")
        # the build's output on stderr: the demo's stdout is its ready line
        if not build(["solutions_04_distributed_chat", "solutions_05_reverse_proxy", "chat_bot"],
                     stdout=sys.stderr):
            die("the demo's programs do not build (above)")

    os.execv(PYTHON, [PYTHON, os.path.join(ROOT, "demo", "demo.py"), args.command, *args.rest])


# ---- the command line ----

# Each command: its name, what runs it, its arguments (named as in ARGUMENTS) and its lines in
# ./workshop help (none: for CI and authors, python3 tools/loop.py ...).
COMMANDS = [
    ("check", lambda args: check_lesson(args.folder, args.k if args.step is None else args.step),
     "NN K --step", ("check NN [K]", "build YOUR lesson NN (lessons/NN-*), run its tests (or step "
                     "K's): progress, the first failure, its hint")),
    ("hunt", cmd_hunt, "NN hunt --check --list", ("hunt NN [K] [--check] [--list]", "a bug hunt: "
     "the reference solution with one real mistake; find and fix it")),
    ("hint", cmd_hint, "NN K --more", ("hint NN [K] [--more]", "a hint for the failing test's "
     "step (or step K); --more: the next, plainer tier")),
    ("status", cmd_status, "NN... --rerun", ("status [NN] [--rerun]", "every lesson's steps from "
     "the last runs; --rerun: build and run them all now")),
    ("watch", cmd_watch, "NN --step", ("watch NN [--step K]", "run the check again on every save "
     "in lessons/NN-*")),
    ("reset", cmd_reset, "NN --yes", ("reset NN [--yes]", "put lesson NN's skeleton back (asks "
     "first; keeps your files in .workshop/backup/)")),
    ("run", cmd_run, "NN ...", ("run NN [flags]", "build and start lesson NN's REFERENCE solution "
     "(solutions/NN-*), to try it by hand")),
    ("test", cmd_test, "--against NN...", ("test", "build, run every solution's tests, the "
     "skeleton check and the mutants (not your code)"), ("test --against node [NN...]", "the "
     "tests against the talk's Node.js originals (reference/node)")),
    ("doctor", cmd_doctor, "", ("doctor", "what is installed and what is missing, required or "
     "optional (and for what)")),
    ("list", cmd_list, "", ("list", "the lessons and their programs")),
    ("demo", cmd_live, "...", ("demo [ARGS]", "the whole system: Redis, three chat servers, the "
     "reverse proxy (demo/)")),
    ("top", cmd_live, "...", ("top, drill [ARGS]", "watch the running system; break it on "
     "purpose (demo/)")),
    ("drill", cmd_live, "..."),
    ("compare", cmd_compare, "...", ("compare [--quick]", "the talk's Node.js programs against "
     "our C++ on the same load: table, CSV, charts")),
    ("slides", cmd_slides, "", ("slides", "build the decks: slides/build/*.html (offline) and "
     "*.pdf; checks code and overflow")),
    ("sanitize", cmd_sanitize, "", ("sanitize", "the solutions' tests under ASan + UBSan "
     "(build-asan/)")),
    ("fuzz", cmd_fuzz, "--seconds", ("fuzz [--seconds N]", "fuzz each parser that reads the "
     "network for N seconds (default 20): fuzz/README.md")),
    ("build", lambda args: 0 if build(args.targets) else 1, "TARGET...", ("build [TARGET...]",
     "install what is missing, configure, build (everything, or the targets)")),
    ("install", cmd_install, "WHAT...", ("install [WHAT...]", "install now what the commands "
     "would (default: tools build run; tools/requirements.txt)")),
    ("help", None, "", ("help", "this text")),
    ("variant", cmd_variant, "--tests --program --patch"),
    ("manifest", cmd_manifest, "--check --build NN..."),
    ("test-list", cmd_test_list, "--write --build NN..."),

    ("answers", cmd_answers, "NN..."),
]
FLAG = {"action": "store_true"}
ARGUMENTS = {
    "NN": (("folder",), {"type": lesson_dir, "metavar": "NN"}),
    "NN...": (("lessons",), {"nargs": "*", "type": lesson_dir, "metavar": "NN"}),
    "K": (("k",), {"nargs": "?", "type": step_arg, "metavar": "K"}),
    "hunt": (("k",), {"nargs": "?", "type": int, "metavar": "K"}),
    "--step": (("--step",), {"type": step_arg, "metavar": "K"}),
    "--yes": (("--yes", "-y"), FLAG),
    "--against": (("--against",), {"choices": ["node"]}),
    "--seconds": (("--seconds",), {"type": int, "default": 20}),
    "--build": (("--build",), {"type": os.path.abspath, "default": BUILD, "metavar": "DIR"}),
    "TARGET...": (("targets",), {"nargs": "*"}),
    "WHAT...": (("what",), {"nargs": "*"}),
    "...": (("rest",), {"nargs": argparse.REMAINDER}),  # main() passes it on, --help included
    **{flag: ((flag,), FLAG) for flag in ("--check", "--list", "--more", "--rerun", "--write")},
    **{option: ((option,), {"required": True}) for option in ("--tests", "--program", "--patch")},
}


def usage(args=None):  # one print: a reader that stops early (| head) breaks no write midway
    rows = "".join(f"  {name:<20}{' ' if len(name) < 20 else '  '}{what}\n"
                   for _, _, _, *lines in COMMANDS for name, what in lines)
    print("usage: ./workshop COMMAND [ARGS]\n\nStart here: ./workshop check 01, then follow what "
          f"it says (lessons/01-hello-http/README.md).\n\n{rows}\nFor CI and authors (python3 "
          "tools/loop.py ...): variant, manifest --check, test-list, answers.")
    return 0


def main(argv):
    top = argparse.ArgumentParser(prog="./workshop", add_help=False,
                                  usage="./workshop COMMAND [ARGS] (./workshop help lists them)")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    for name, handler, arguments, *rows in COMMANDS:
        sub = commands.add_parser(name, prog=f"./workshop {name}",
                                  add_help="..." not in arguments.split(),
                                  description="; ".join(what for _, what in rows) or None)
        for argument in arguments.split():
            sub.add_argument(*ARGUMENTS[argument][0], **ARGUMENTS[argument][1])
        sub.set_defaults(handler=handler or usage)
    args, unknown = top.parse_known_args(["help"] if not argv or argv[0] in ("-h", "--help")
                                         else argv)
    if hasattr(args, "rest"):  # argparse takes "--port 0" for its own options: pass it on as is
        args.rest = argv[argv.index(args.command) + 1 + (args.command == "run"):]
    elif unknown:
        top.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except subprocess.CalledProcessError as failed:
        return failed.returncode or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
