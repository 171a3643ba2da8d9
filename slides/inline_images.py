#!/usr/bin/env python3
"""Copies the decks into OUT_DIR with every local image inlined as a data: URI, so the HTML that
marp makes from the copies is one file that works offline (marp links images, it does not embed).
Markdown refuses data:image/svg+xml links, so a Markdown image becomes an <img> tag; Marp's size
keywords in its alt text (`w:900`, `h:400`) become its width and height.

usage: python3 slides/inline_images.py OUT_DIR
"""
import base64
import glob
import mimetypes
import os
import re
import sys

SLIDES = os.path.dirname(os.path.abspath(__file__))
MARKDOWN_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")
HTML_IMAGE = re.compile(r"(<img\b[^>]*\bsrc=\")([^\"]+)(\")")
mimetypes.add_type("image/svg+xml", ".svg")


def data_uri(target, deck):
    if "://" in target or target.startswith("data:"):
        return target
    path = os.path.join(SLIDES, target)
    if not os.path.exists(path):
        sys.exit(f"{deck}: the image {target} does not exist")
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode()}"


def img_tag(opening, src):
    """`![w:900 a picture](` and a data: URI -> <img src=... alt="a picture" style="width:900px">"""
    alt, style = [], []
    for word in opening[2:-2].split():
        size = re.fullmatch(r"(w|h|width|height):(\d+)(px)?", word)
        if size:
            style.append(f"{'width' if size.group(1).startswith('w') else 'height'}:{size.group(2)}px")
        else:
            alt.append(word)
    return f'<img src="{src}" alt="{" ".join(alt)}" style="{";".join(style)}">'


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for deck in sorted(glob.glob(os.path.join(SLIDES, "*.md"))):
        name = os.path.basename(deck)
        with open(deck, encoding="utf-8") as f:
            text = f.read()
        if not re.match(r"---\n(.*\n)*?marp: true\n", text):
            continue  # not a deck (README.md)
        text = HTML_IMAGE.sub(lambda m: m.group(1) + data_uri(m.group(2), name) + m.group(3), text)
        text = MARKDOWN_IMAGE.sub(lambda m: img_tag(m.group(1), data_uri(m.group(2), name)), text)
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
