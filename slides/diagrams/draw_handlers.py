#!/usr/bin/env python3
"""Draws Asio's handler-tracking log (ASIO_ENABLE_HANDLER_TRACKING, on stderr) as an SVG timeline:
one row per client with what it waits for (read, write, timer), and at the bottom the one thread,
with a tick each time it runs a handler. So a class sees one thread serving many clients.

usage: python3 draw_handlers.py event-loop-trace.log > event-loop-trace.svg

The log's lines are `@asio|TIME|ACTION|DESCRIPTION`, where ACTION is `N*M` (handler N created
handler M for DESCRIPTION, e.g. `socket@0x..async_receive`), `>M` (the loop entered handler M),
`<M` (it left it), `~M` (destroyed without being run). Handler 0 is code outside any handler.
"""
import html
import re
import sys

LINE = re.compile(r"^@asio\|([\d.]+)\|([^|]*)\|(.*)$")
OBJECT = re.compile(r"^(\w+)@(0x[0-9a-f]+)\.(\w+)")
COLOURS = {"read": "#4a6fa5", "write": "#2e7d32", "wait 1 s": "#e08a00", "accept": "#7b1fa2",
           "signal": "#999999", "deadline": "#c9c9c9"}


def parse(path):
    handlers = {}  # id -> dict(created, entered, left, creator, kind, object, result)
    events = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for raw in log:
            m = LINE.match(raw.strip())
            if not m:
                continue
            t, action, text = float(m.group(1)), m.group(2), m.group(3)
            events.append(t)
            if "*" in action:
                creator, new = action.split("*")
                obj = OBJECT.match(text)
                handlers[new] = {"created": t, "creator": creator, "entered": None, "left": None,
                                 "type": obj.group(1) if obj else "", "object": obj.group(2) if obj else "",
                                 "op": obj.group(3) if obj else text, "result": ""}
            elif action.startswith(">") and action[1:] in handlers:
                handlers[action[1:]]["entered"] = t
                handlers[action[1:]]["result"] = text
            elif action.startswith("<") and action[1:] in handlers:
                handlers[action[1:]]["left"] = t
    return handlers, (min(events), max(events))


def assign_lanes(handlers):
    """A lane per client: whatever a client's handlers start stays in that client's lane."""
    lanes, client_of_accept, acceptors = {}, {}, set()
    order = sorted(handlers, key=lambda h: (handlers[h]["created"], int(h)))
    for h in order:
        info = handlers[h]
        if info["op"] == "async_accept":
            acceptors.add(info["object"])
            lanes[h] = "accept loop"
        elif info["type"] == "signal_set":
            lanes[h] = "signals"
        elif info["creator"] == "0" or info["creator"] not in lanes:
            lanes[h] = "start-up"
        elif lanes[info["creator"]] == "accept loop":
            if info["creator"] not in client_of_accept:
                client_of_accept[info["creator"]] = f"client {len(client_of_accept) + 1}"
            lanes[h] = client_of_accept[info["creator"]]
        else:
            lanes[h] = lanes[info["creator"]]
    return lanes


def kind_of(info, first_timer_of_lane):
    if info["op"] == "async_receive":
        return "read"
    if info["op"] == "async_send":
        return "write"
    if info["op"] == "async_accept":
        return "accept"
    if info["type"] == "signal_set":
        return "signal"
    if info["type"] in ("deadline_timer", "steady_timer", "system_timer"):
        return "deadline" if info["object"] == first_timer_of_lane else "wait 1 s"
    return None


def draw(handlers, span, lanes, title):
    start, end = span
    shown = {lanes[h] for h, info in handlers.items() if kind_of(info, None) in ("read", "write")}
    clients = sorted({l for l in shown if l.startswith("client")}, key=lambda l: int(l.split()[1]))
    rows = ["accept loop"] + clients
    left, right, top, row_h = 150, 1180, 70, 46
    thread_y = top + row_h * len(rows) + 20
    height = thread_y + 120
    x = lambda t: left + (t - start) / (end - start) * (right - left)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="{height}" '
           f'viewBox="0 0 1200 {height}" font-family="DejaVu Sans, sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="20" y="30" font-size="20" font-weight="bold">{html.escape(title)}</text>']
    first_timer = {}
    for h in sorted(handlers, key=lambda h: handlers[h]["created"]):
        info = handlers[h]
        if info["type"] == "deadline_timer" and lanes[h] not in first_timer:
            first_timer[lanes[h]] = info["object"]
    # time axis
    step = 0.5 if end - start > 1.5 else 0.1
    tick = 0.0
    while start + tick <= end:
        xx = x(start + tick)
        out.append(f'<line x1="{xx:.1f}" y1="{top - 10}" x2="{xx:.1f}" y2="{thread_y + 40}" stroke="#eeeeee"/>')
        out.append(f'<text x="{xx:.1f}" y="{thread_y + 58}" font-size="13" text-anchor="middle" fill="#666">{tick:.1f} s</text>')
        tick += step
    for i, row in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="20" y="{y + 24}" font-size="15">{row}</text>')
    busy = 0.0
    for h, info in handlers.items():
        lane = lanes.get(h)
        kind = kind_of(info, first_timer.get(lane))
        if lane in rows and kind:
            y = top + rows.index(lane) * row_h
            done = info["entered"] if info["entered"] is not None else end
            if kind == "deadline":
                y0, hgt = y + 30, 5
            else:
                y0, hgt = y + 10, 16
            x0, x1 = x(info["created"]), max(x(done), x(info["created"]) + 2)
            out.append(f'<rect x="{x0:.1f}" y="{y0}" width="{x1 - x0:.1f}" height="{hgt}" rx="3" '
                       f'fill="{COLOURS[kind]}" opacity="0.85"><title>{kind}: handler {h}</title></rect>')
        if info["entered"] is not None and info["left"] is not None:
            busy += info["left"] - info["entered"]
            colour = COLOURS.get(kind or "", "#555555")
            xx = x(info["entered"])
            out.append(f'<rect x="{xx:.1f}" y="{thread_y}" width="2" height="26" fill="{colour}"/>')
    out.append(f'<text x="20" y="{thread_y + 18}" font-size="15" font-weight="bold">the one thread</text>')
    legend_y = height - 20
    lx = 150
    for name in ["accept", "read", "write", "wait 1 s", "deadline"]:
        out.append(f'<rect x="{lx}" y="{legend_y - 12}" width="22" height="12" rx="3" fill="{COLOURS[name]}"/>')
        label = {"deadline": "idle deadline", "wait 1 s": "timer: World after 1 s"}.get(name, name)
        out.append(f'<text x="{lx + 28}" y="{legend_y - 1}" font-size="14">{label}</text>')
        lx += 60 + 9 * len(label)
    total = end - start
    out.append(f'<text x="{right}" y="{legend_y - 1}" font-size="14" text-anchor="end" fill="#444">'
               f'thread busy {busy * 1e3:.2f} ms of {total:.2f} s ({busy / total * 100:.2f}%)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    handlers, span = parse(sys.argv[1])
    lanes = assign_lanes(handlers)
    title = sys.argv[2] if len(sys.argv) > 2 else "hello_http under curl: bars are waits, ticks are the thread at work"
    sys.stdout.write(draw(handlers, span, lanes, title))


if __name__ == "__main__":
    main()
