#!/usr/bin/env bash
# caught.sh TEST_BINARY MUTANT_PROGRAM MISTAKE DESCRIPTION
# Runs a lesson's tests against a known-bad variant of its solution. Passes (exit 0) only if at
# least one test case fails, and names the cases that caught the mistake; a mutant that passes
# every test is a hole in the tests (exit 1).
set -uo pipefail
tests=$1 program=$2 mistake=$3 description=${4:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/mutant.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "mutant $mistake: $description"
if [ ! -x "$program" ] || [ ! -x "$tests" ]; then
  # Without this, every test would fail to start it and the mistake would look caught.
  echo "not built: $([ -x "$program" ] || echo "$program ")$([ -x "$tests" ] || echo "$tests")"
  echo "build it first: cmake --build build (or --target mutant_NN_$mistake)"
  exit 1
fi
"$tests" --program "$program" -r xml -o "$work/results.xml" >"$work/output" 2>&1
status=$?

# One line per test case: pass|fail <TAB> name (Catch2's XML reporter, one attribute per case).
awk '
  function unescape(s) {
    gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s)
    gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s); return s
  }
  function finish() { if (name != "") print (ok ? "pass" : "fail") "\t" name; name = "" }
  /<TestCase / { finish(); match($0, / name="[^"]*"/); name = unescape(substr($0, RSTART + 7, RLENGTH - 8)); ok = 0 }
  /<OverallResult success="true"/ { ok = 1 }
  /<\/TestCase>/ { finish() }
  END { finish() }
' "$work/results.xml" >"$work/results.tsv" 2>/dev/null

total=$(wc -l <"$work/results.tsv")
caught=$(grep -c '^fail' "$work/results.tsv")
if [ "$total" -eq 0 ]; then
  echo "the tests did not run (exit $status):"
  cat "$work/output"
  exit 1
fi
if [ "$caught" -eq 0 ]; then
  echo "HOLE: all $total test cases pass against this mistake. Add a test that catches it."
  exit 1
fi
echo "caught by $caught of $total test cases:"
grep '^fail' "$work/results.tsv" | cut -f2 | sed 's/^/  - /'
