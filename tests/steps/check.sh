#!/usr/bin/env bash
# check.sh pass|fail TEST_BINARY PROGRAM SPEC
# Runs the lesson's test cases that SPEC selects ("[step1],[step2]") against PROGRAM, a "solved up
# to step K" build of the skeleton (tests/steps/README.md).
#   pass: every selected case must pass (steps 1..K are done in it);
#   fail: every selected case must fail (step K+1 is not done yet: a case that passes belongs
#         to an earlier step, and its [stepK] tag is wrong).
# Either way at least one case must be selected, else the check proves nothing.
set -uo pipefail
mode=$1 tests=$2 program=$3 spec=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/steps.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ ! -x "$program" ] || [ ! -x "$tests" ]; then
  echo "not built: $([ -x "$program" ] || echo "$program ")$([ -x "$tests" ] || echo "$tests")"
  echo "build it first: cmake --build build"
  exit 1
fi
"$tests" --program "$program" "$spec" -r xml -o "$work/results.xml" >"$work/output" 2>&1

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
if [ "$total" -eq 0 ]; then
  echo "no test case matches $spec (or the tests did not run):"
  cat "$work/output"
  exit 1
fi
if [ "$mode" = pass ]; then
  wrong=fail; want="pass"
else
  wrong=pass; want="fail"
fi
if grep -q "^$wrong" "$work/results.tsv"; then
  echo "expected every case of $spec to $want against $program; these did not:"
  grep "^$wrong" "$work/results.tsv" | cut -f2 | sed 's/^/  - /'
  if [ "$mode" = pass ]; then  # their stories, with the console reporter
    "$tests" --program "$program" "$spec" 2>&1 | tail -n 60
  fi
  exit 1
fi
echo "all $total case(s) of $spec ${want} against $program, as they should:"
cut -f2 "$work/results.tsv" | sed 's/^/  - /'
