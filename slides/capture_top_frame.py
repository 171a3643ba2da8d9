#!/usr/bin/env python3
"""Writes the live-view frame on the closing deck's "Break it live" slide from a real run:
starts a demo of its own (demo/demo.py demo, proxy on a free port), runs `drill flood` on it,
takes `top --once` in the middle, stops the demo, and puts the frame between the
<!-- top-frame:begin --> and <!-- top-frame:end --> markers of slides/06-closing.md.

  python3 slides/capture_top_frame.py    (after building the solutions: ./workshop demo builds
                                          them; WORKSHOP_BUILD: another build folder)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SLIDES = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SLIDES)
DECK = os.path.join(SLIDES, "06-closing.md")
DEMO = [sys.executable, os.path.join(ROOT, "demo", "demo.py")]
BEGIN, END = "<!-- top-frame:begin -->", "<!-- top-frame:end -->"


def main():
    with tempfile.TemporaryDirectory(prefix="workshop-slides.") as folder:
        env = dict(os.environ, WORKSHOP_DEMO_STATE=os.path.join(folder, "demo.json"),
                   TMPDIR=folder, PYTHONUNBUFFERED="1")
        demo = subprocess.Popen(DEMO + ["demo", "--no-build", "--port", "0"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            ready = demo.stdout.readline()
            if not ready.startswith("listening on "):
                sys.exit(f"capture_top_frame: the demo did not start ({ready!r}): build the "
                         "solutions first (./workshop demo builds them)")
            flood = subprocess.Popen(DEMO + ["drill", "flood", "--clients", "100", "--seconds", "6",
                                             "--rate", "2"], env=env, stderr=subprocess.PIPE,
                                     text=True)
            time.sleep(3)
            frame = subprocess.run(DEMO + ["top", "--once"], env=env, capture_output=True,
                                   text=True, check=True).stdout
            narration = flood.communicate(timeout=60)[1]
            if flood.returncode != 0:
                sys.exit(f"capture_top_frame: the flood drill failed:\n{narration}")
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(20)
    table = frame.split("\n\n")  # the head, the table, then the log lines and the legend
    frame = "\n".join(table[:2])  # the slide explains the columns in its own words
    with open(DECK) as file:
        deck = file.read()
    block = f"{BEGIN}\n\n```text\n{frame}\n```\n\n{END}"
    deck, count = re.subn(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, deck,
                          flags=re.S)
    if count != 1:
        sys.exit(f"capture_top_frame: {DECK} needs one {BEGIN} ... {END} block")
    with open(DECK, "w") as file:
        file.write(deck)
    print(frame)
    print(f"written into {os.path.relpath(DECK, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
