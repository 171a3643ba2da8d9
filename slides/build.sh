#!/usr/bin/env bash
# Builds the decks into slides/build/ and checks them; `./workshop slides` runs it after
# installing Node.js, Chromium and slides/node_modules (npm ci).
#   build/NN-name.html   self-contained (images inlined): open it offline, press P for the notes
#   build/NN-name.pdf    handouts
#   build/png/NN-name.MMM.png   every slide as a picture (taken by the overflow check)
# It fails when a code block is not in the sources (check_code.py) or a slide overflows
# (check_overflow.mjs). Set SLIDES_NO_PNG=1 to skip the pictures.
set -euo pipefail
SLIDES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SLIDES"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
marp=(node_modules/.bin/marp --config-file .marprc.yml --no-stdin --allow-local-files)

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

step "checking the code on the slides against solutions/ and reference/node/"
python3 check_code.py

rm -rf build
step "inlining the images (build/md/)"
python3 inline_images.py build/md

step "HTML (build/*.html)"
"${marp[@]}" --input-dir build/md --output build --html
png=(--png build/png)
[ -z "${SLIDES_NO_PNG:-}" ] || png=()
step "the overflow check (every slide must fit)${png:+, and a PNG of every slide (build/png/)}"
"${marp[@]}" --input-dir build/md --output build/check --template bare --html >/dev/null 2>&1
node check_overflow.mjs "${png[@]}" build/check/*.html

step "PDF handouts (build/*.pdf)"
"${marp[@]}" --input-dir build/md --output build --pdf --pdf-notes --browser-timeout 300
rm -rf build/md build/check
step "done: $(ls build/*.html | wc -l) decks in slides/build/"
