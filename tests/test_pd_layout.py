"""The shipped Pd patches are laid out so that a person can read them in the real Pd GUI.

Pd itself cannot tell where its boxes are without a display, so this estimates each box's
rectangle from the .pd text the way Pd vanilla 0.53 draws it, and fails on what made the old
patch unreadable: boxes and comments on top of each other, labels and boxes at or past the left or
top edge, canvases wider than a screen, boxes outside their window, and wires drawn through boxes, across each other or
upwards.

The metrics were measured on screenshots of Pd 0.53 (puredata-gui, DejaVu Sans Mono) under Xvfb
(scripts/pd_screenshot.sh takes the same kind of picture): at font 12 a character is 7 px wide and
a line 15 px high, an object box is chars x 7 + 5 px wide (at least 3 chars) and lines x 15 + 6 px
high, a message box 5 px wider (its flag), a number box width x 7 + 3 by 20 px; at font 10 the
same with 6 px characters and 13 px lines. Object and comment text wraps at 60 characters unless
the box has an explicit width (`, f N`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PATCHES = sorted((REPO / "patches").glob("*.pd"))

MARGIN = 5  # nothing left of x=5 or above y=5
MAX_WIDTH = 1400  # px: a canvas (its window and its content) fits a common screen
MAX_WIRE_CROSSINGS = 0  # per canvas
#: (character width, line height) in px by canvas font size, measured (10, 12) or scaled from them.
FONTS = {8: (5, 11), 10: (6, 13), 12: (7, 15), 16: (10, 19), 24: (14, 29), 36: (22, 44)}
IOW = 7  # inlet/outlet width in px; a wire runs from an outlet's x + 3 to an inlet's x + 3
DEFAULT_WRAP = 60


def _font(size: int) -> tuple[int, int]:
    return FONTS.get(size) or FONTS[min(FONTS, key=lambda s: abs(s - size))]


# ---------------------------------------------------------------------------------------------
# parsing


def _records(text: str) -> list[list[str]]:
    """The .pd file's records as atom lists ("\\;" "\\," "\\$" and "\\ " kept escaped, a bare
    "," its own atom). Records end at an unescaped ";" and may span lines (Pd wraps long ones)."""
    out = []
    for rec in re.split(r"(?<!\\);[ \t]*(?:\r?\n|$)", text):
        atoms = re.findall(r"(?:\\.|[^\s\\,])+|,", rec)
        if atoms:
            out.append(atoms)
    return out


def _unescape(atom: str) -> str:
    return re.sub(r"\\(.)", r"\1", atom)


def _wrap(words: list[str], width: int) -> list[str]:
    """Pd's word wrap: lines of at most ``width`` characters, longer words cut."""
    lines: list[str] = []
    line = ""
    for w in words:
        while len(w) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(w[:width])
            w = w[width:]
        if not line:
            line = w
        elif len(line) + 1 + len(w) <= width:
            line += " " + w
        else:
            lines.append(line)
            line = w
    if line or not lines:
        lines.append(line)
    return lines


def _text_lines(atoms: list[str], width: int, message: bool) -> list[str]:
    """How Pd shows a box's atoms: "\\," and "\\;" stick to the word before them; in a message
    box or a comment a "\\;" also ends the line."""
    words: list[str] = []
    breaks: list[int] = []  # word indices after which a message box breaks the line
    for a in atoms:
        t = _unescape(a)
        if t in (",", ";") and words and a.startswith("\\"):
            words[-1] += t
            if t == ";" and message:
                breaks.append(len(words))
            continue
        words.append(t)
        if t == ";" and message:
            breaks.append(len(words))
    lines: list[str] = []
    start = 0
    for b in breaks + [len(words)]:
        if b > start or not lines:
            lines += _wrap(words[start:b], width)
        start = b
    return lines


@dataclass
class Box:
    index: int
    kind: str  # obj, msg, text, floatatom, symbolatom, listbox, pd (subpatch), graph
    text: str
    rect: tuple[int, int, int, int]  # x1, y1, x2, y2 of the box itself
    extra: list[tuple[int, int, int, int]] = field(default_factory=list)  # labels drawn beside it
    inlets: int = 0
    outlets: int = 0

    @property
    def rects(self):
        return [self.rect] + self.extra


@dataclass
class Canvas:
    name: str
    font: int
    size: tuple[int, int]  # the window's width, height
    boxes: list[Box] = field(default_factory=list)
    wires: list[tuple[int, int, int, int]] = field(default_factory=list)
    gop: tuple[int, int] | None = None  # graph-on-parent size
    inlet_x: list[int] = field(default_factory=list)
    outlet_x: list[int] = field(default_factory=list)
    arrays: list[str] = field(default_factory=list)


# inlets and outlets of the classes the shipped patches use; anything else: as many as its
# wires use (a lower bound, which only shifts where an estimated wire starts or ends)
_IO = {
    "r": (0, 1), "receive": (0, 1), "s": (1, 0), "send": (1, 0), "print": (1, 0), "inlet": (0, 1),
    "outlet": (1, 0), "inlet~": (0, 1), "outlet~": (1, 0), "loadbang": (0, 1), "oscparse": (1, 1),
    "oscformat": (1, 1), "netsend": (1, 2), "netreceive": (1, 1), "change": (1, 1), "symbol": (2, 1),
    "float": (2, 1), "f": (2, 1), "bang": (1, 1), "b": (1, 1), "delay": (2, 1), "del": (2, 1),
    "mtof": (1, 1), "osc~": (2, 1), "noise~": (1, 1), "line~": (2, 1), "vline~": (3, 1), "dac~": (2, 0),
    "*": (2, 1), "+": (2, 1), "-": (2, 1), "/": (2, 1), "*~": (2, 1), "+~": (2, 1), "metro": (2, 1),
}


def _io(words: list[str]) -> tuple[int, int] | None:
    if not words:
        return None
    cls, args = words[0], words[1:]
    if cls in ("route", "select", "sel"):
        return (2 if len(args) == 1 else 1), len(args) + 1 if args else 2
    if cls == "unpack":
        return 1, max(len(args), 2)
    if cls == "pack":
        return max(len(args), 2), 1
    if cls in ("t", "trigger"):
        return 1, max(len(args), 2)
    if cls == "list":
        sub = args[0] if args else "append"
        return {"trim": (1, 1), "length": (1, 1), "split": (2, 3), "fromsymbol": (1, 1),
                "tosymbol": (1, 1)}.get(sub, (2, 1))
    if cls in ("s", "send") and not args:
        return 2, 0
    if cls == "array" and args[:1] == ["set"]:
        return 3 if len(args) > 1 else 4, 0
    if cls == "tgl" or cls == "bng":
        return 1, 1
    return _IO.get(cls)


def parse_pd(text: str) -> list[Canvas]:
    """Every canvas of a .pd file (the top level first, then each subpatch in file order) with
    its boxes' estimated rectangles and its wires."""
    stack: list[Canvas] = []
    done: list[Canvas] = []
    for atoms in _records(text):
        head = atoms[:2]
        if head == ["#N", "canvas"]:
            w, h = int(float(atoms[4])), int(float(atoms[5]))
            if not stack:  # top level: #N canvas x y w h font
                stack.append(Canvas("top level", int(atoms[6]), (w, h)))
            else:  # subpatch: #N canvas x y w h name vis
                stack.append(Canvas(" ".join(atoms[6:-1]) or "(subpatch)", stack[-1].font, (w, h)))
            continue
        if not stack or head[0] != "#X":
            continue
        cv = stack[-1]
        kind = atoms[1]
        if kind == "connect":
            cv.wires.append(tuple(int(a) for a in atoms[2:6]))
        elif kind == "array":
            cv.arrays.append(_unescape(atoms[2]))
        elif kind == "coords" and len(atoms) >= 9 and int(float(atoms[8])) != 0:
            cv.gop = (int(float(atoms[6])), int(float(atoms[7])))
        elif kind == "restore":
            sub = stack.pop()
            done.append(sub)
            parent = stack[-1]
            _add_box(parent, kind, atoms, sub)
        elif kind in ("obj", "msg", "text", "floatatom", "symbolatom", "listbox"):
            _add_box(cv, kind, atoms, None)
            if kind == "obj" and len(atoms) > 4 and atoms[4] in ("inlet", "inlet~", "outlet", "outlet~"):
                (cv.inlet_x if atoms[4].startswith("inlet") else cv.outlet_x).append(int(float(atoms[2])))
    if len(stack) != 1:
        raise ValueError(f"unbalanced canvases: {len(stack)} open at the end")
    canvases = stack + done
    for cv in canvases:
        for a, o, b, i in cv.wires:
            if not (0 <= a < len(cv.boxes) and 0 <= b < len(cv.boxes)):
                raise ValueError(f"{cv.name}: wire {a} {o} {b} {i} names a box that is not there")
            cv.boxes[a].outlets = max(cv.boxes[a].outlets, o + 1)
            cv.boxes[b].inlets = max(cv.boxes[b].inlets, i + 1)
    return canvases


def _add_box(cv: Canvas, kind: str, atoms: list[str], sub: Canvas | None) -> None:
    cw, lh = _font(cv.font)
    x, y = int(float(atoms[2])), int(float(atoms[3]))
    body = atoms[4:]
    width = None
    if len(body) >= 3 and body[-3] == "," and body[-2] == "f":
        width, body = int(body[-1]), body[:-3]
    index = len(cv.boxes)
    extra: list[tuple[int, int, int, int]] = []
    io: tuple[int, int] | None = None
    if kind == "restore" and body[:1] == ["graph"] or kind == "restore" and sub is not None and sub.gop:
        gw, gh = sub.gop if sub.gop else (200, 140)
        box = Box(index, "graph", " ".join(sub.arrays) or " ".join(body), (x, y, x + gw, y + gh))
        for k, name in enumerate(sub.arrays):  # each array's name is drawn above the graph
            box.extra.append((x, y - (k + 1) * lh - 2, x + cw * len(name), y - k * lh - 1))
        cv.boxes.append(box)
        return
    if kind in ("floatatom", "symbolatom", "listbox"):
        nchar = int(body[0]) or {"floatatom": 5, "symbolatom": 10, "listbox": 20}[kind]
        h = lh + 5
        rect = (x, y, x + nchar * cw + 3, y + h)
        where, label = int(body[3]), _unescape(body[4])
        if label not in ("-", "empty", ""):
            lw = len(label) * cw
            x2 = rect[2]
            extra.append({0: (x - 3 - lw, y, x - 1, y + h), 1: (x2 + 2, y, x2 + 2 + lw, y + h),
                          2: (x, y - lh, x + lw, y - 1), 3: (x, y + h + 1, x + lw, y + h + lh)}[where])
        name = next((_unescape(a) for a in (body[4], body[5]) if a not in ("-", "empty")), "")
        cv.boxes.append(Box(index, kind, f"{kind} {name}".strip(), rect, extra, *(1, 1)))
        return
    words = [_unescape(a) for a in body]
    if kind == "obj" and words[:1] and words[0] in ("tgl", "bng") and len(words) > 10:
        size = int(float(words[1]))
        # tgl size init send receive label x_off y_off font fontsize ...; bng: size hold intrptr init ...
        lab = 5 if words[0] == "tgl" else 7
        label, ldx, ldy, lfs = words[lab], int(words[lab + 1]), int(words[lab + 2]), int(words[lab + 4])
        rect = (x, y, x + size + 1, y + size + 1)
        if label not in ("empty", "-"):
            lcw, llh = _font(lfs)
            extra.append((x + ldx, y + ldy - llh // 2, x + ldx + len(label) * lcw, y + ldy + llh // 2))
        cv.boxes.append(Box(index, "obj", " ".join(words), rect, extra, 1, 1))
        return
    text = " ".join(words)
    if kind == "restore":
        text = " ".join(words)  # "pd name"
        io = (len(sub.inlet_x), len(sub.outlet_x)) if sub else (0, 0)
        kind = "pd"
    lines = _text_lines(body, width or DEFAULT_WRAP, kind in ("msg", "text"))
    nchar = width if width else max(max(len(l) for l in lines), 0 if kind == "text" else 3)
    w = nchar * cw + 5 + (5 if kind == "msg" else 0)
    h = len(lines) * lh + 6
    if kind == "text":
        io = (0, 0)
    elif kind == "msg":
        io = (1, 1)
    elif io is None:
        io = _io(text.split()) or (0, 0)
    cv.boxes.append(Box(index, kind, text, (x, y, x + w, y + h), extra, *io))


# ---------------------------------------------------------------------------------------------
# checks


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0 and min(a[3], b[3]) - max(a[1], b[1]) > 0


def _iolet_x(box: Box, k: int, n: int) -> int:
    x1, _, x2, _ = box.rect
    n = max(n, k + 1)
    return x1 if n <= 1 else x1 + (x2 - x1 - IOW) * k // (n - 1)


def wire_segments(cv: Canvas):
    """(wire, (x1, y1, x2, y2)) for each wire, from the outlet's bottom to the inlet's top."""
    for a, o, b, i in cv.wires:
        src, dst = cv.boxes[a], cv.boxes[b]
        yield (a, o, b, i), (_iolet_x(src, o, src.outlets) + IOW // 2, src.rect[3],
                             _iolet_x(dst, i, dst.inlets) + IOW // 2, dst.rect[1])


def _seg_hits_rect(s, r, shrink: int = 2) -> bool:
    """Does segment s pass through the inside of rect r (shrunk by ``shrink`` px)?"""
    x1, y1, x2, y2 = s
    rx1, ry1, rx2, ry2 = r[0] + shrink, r[1] + shrink, r[2] - shrink, r[3] - shrink
    if rx1 >= rx2 or ry1 >= ry2:
        return False
    t0, t1 = 0.0, 1.0  # Liang-Barsky clipping
    dx, dy = x2 - x1, y2 - y1
    for p, q in ((-dx, x1 - rx1), (dx, rx2 - x1), (-dy, y1 - ry1), (dy, ry2 - y1)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def _cross(s, t) -> bool:
    """Proper crossing of two wires (touching at a shared outlet or inlet is not one)."""
    (ax, ay, bx, by), (cx, cy, dx, dy) = s, t
    if {(ax, ay), (bx, by)} & {(cx, cy), (dx, dy)}:
        return False

    def orient(px, py, qx, qy, rx, ry):
        v = (qx - px) * (ry - py) - (qy - py) * (rx - px)
        return (v > 0) - (v < 0)

    o1, o2 = orient(ax, ay, bx, by, cx, cy), orient(ax, ay, bx, by, dx, dy)
    o3, o4 = orient(cx, cy, dx, dy, ax, ay), orient(cx, cy, dx, dy, bx, by)
    return o1 * o2 < 0 and o3 * o4 < 0


def layout_problems(text: str) -> list[str]:
    """Everything that makes a patch hard to read, one line each (empty: fine)."""
    problems = []
    for cv in parse_pd(text):
        boxes = cv.boxes
        if cv.size[0] > MAX_WIDTH:
            problems.append(f"{cv.name}: window {cv.size[0]} px wide (at most {MAX_WIDTH})")
        for b in boxes:
            for r in b.rects:
                if r[0] < MARGIN or r[1] < MARGIN:
                    problems.append(f"{cv.name}: [{b.text[:40]}] at ({r[0]}, {r[1]}): left of x={MARGIN} "
                                    f"or above y={MARGIN}")
                if r[2] > MAX_WIDTH:
                    problems.append(f"{cv.name}: [{b.text[:40]}] reaches x={r[2]} (at most {MAX_WIDTH})")
                elif r[2] > cv.size[0] or r[3] > cv.size[1]:
                    problems.append(f"{cv.name}: [{b.text[:40]}] reaches ({r[2]}, {r[3]}), outside the window "
                                    f"({cv.size[0]} x {cv.size[1]}): one has to scroll to see it")
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if any(_overlap(r, s) for r in a.rects for s in b.rects):
                    problems.append(f"{cv.name}: [{a.text[:40]}] overlaps [{b.text[:40]}]")
        segs = list(wire_segments(cv))
        for (a, o, b, i), s in segs:
            for box in boxes:
                if box.index not in (a, b) and box.kind != "text" and _seg_hits_rect(s, box.rect):
                    problems.append(f"{cv.name}: the wire [{boxes[a].text[:30]}] {o} -> [{boxes[b].text[:30]}] "
                                    f"{i} runs through [{box.text[:30]}]")
                elif box.index not in (a, b) and box.kind == "text" and _seg_hits_rect(s, box.rect, 4):
                    problems.append(f"{cv.name}: the wire [{boxes[a].text[:30]}] {o} -> [{boxes[b].text[:30]}] "
                                    f"{i} runs through the comment '{box.text[:30]}'")
        for (a, o, b, i), s in segs:
            if s[3] < s[1]:
                problems.append(f"{cv.name}: the wire [{boxes[a].text[:30]}] {o} -> [{boxes[b].text[:30]}] {i} "
                                f"runs upwards (its inlet is above its outlet)")
        crossings = [(w1, w2) for k, (w1, s1) in enumerate(segs) for (w2, s2) in segs[k + 1:] if _cross(s1, s2)]
        if len(crossings) > MAX_WIRE_CROSSINGS:
            (a, o, b, i), (c, p, d, j) = crossings[0]
            problems.append(f"{cv.name}: {len(crossings)} wire crossings (at most {MAX_WIRE_CROSSINGS}), e.g. "
                            f"[{boxes[a].text[:25]}] -> [{boxes[b].text[:25]}] crosses "
                            f"[{boxes[c].text[:25]}] -> [{boxes[d].text[:25]}]")
    return problems


# ---------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("path", PATCHES, ids=[p.name for p in PATCHES])
def test_patch_is_readable(path):
    problems = layout_problems(path.read_text())
    assert not problems, f"{path.name}: {len(problems)} layout problems:\n" + "\n".join(problems[:40])


def test_patches_have_named_routing_subpatches():
    """The top level reads as the data flow: the dispatcher ([route s2s] -> [route level bands ...])
    hands every address group to a named routing sub-patch ([pd route-...]), which holds the
    per-address routes and named sends."""
    top = parse_pd((REPO / "patches" / "s2s.pd").read_text())[0]
    (rs,) = [b for b in top.boxes if b.text == "route s2s"]
    (disp,) = [top.boxes[b] for a, _, b, _ in top.wires if a == rs.index]
    groups = disp.text.split()[1:]
    assert disp.text.startswith("route ") and len(groups) >= 20, disp.text
    for k, group in enumerate(groups):
        dests = [top.boxes[b].text for a, o, b, _ in top.wires if a == disp.index and o == k]
        assert dests and all(d.startswith("pd route-") for d in dests), (group, dests)


# the checks themselves can fail: each bad layout below is reported


BAD = {
    "overlap": "#N canvas 0 50 600 400 12;\n#X obj 20 20 route level bands onset;\n#X obj 100 25 print x;\n",
    "label off the left edge": "#N canvas 0 50 600 400 12;\n#X floatatom 20 60 6 0 0 0 level s2s-level - 0;\n",
    "at the top edge": "#N canvas 0 50 600 400 12;\n#X obj 20 2 loadbang;\n",
    "too wide": "#N canvas 0 50 1800 400 12;\n#X obj 20 20 loadbang;\n",
    "outside its window": "#N canvas 0 50 300 200 12;\n#X obj 250 20 s s2s-vocals;\n",
    "content too wide": "#N canvas 0 50 600 400 12;\n#X obj 1350 20 s s2s-vocals;\n",
    "comment over a box": "#N canvas 0 50 600 400 12;\n#X text 20 20 a comment that is long enough to run into"
                          " the box on its right;\n#X obj 300 22 oscparse;\n",
    "wire through a box": "#N canvas 0 50 600 400 12;\n#X obj 20 20 loadbang;\n#X obj 20 60 print a;\n"
                          "#X obj 20 100 print b;\n#X connect 0 0 2 0;\n",
    "upward wire": "#N canvas 0 50 600 400 12;\n#X obj 20 80 loadbang;\n#X obj 120 20 print a;\n"
                   "#X connect 0 0 1 0;\n",
    "crossing wires": "#N canvas 0 50 600 400 12;\n#X obj 20 20 route a b;\n#X obj 20 80 print a;\n"
                      "#X obj 120 80 print b;\n#X connect 0 0 2 0;\n#X connect 0 1 1 0;\n",
    "subpatch overlap": "#N canvas 0 50 600 400 12;\n#N canvas 0 50 400 300 inner 0;\n#X obj 20 20 inlet;\n"
                        "#X obj 30 30 outlet;\n#X restore 20 20 pd inner;\n",
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_layout_is_reported(name):
    assert layout_problems(BAD[name]), name


def test_a_clean_layout_passes():
    good = ("#N canvas 0 50 600 400 12;\n#X obj 20 20 route a b;\n#X obj 20 80 print a;\n"
            "#X obj 120 80 print b;\n#X floatatom 20 140 6 0 0 1 level s2s-level - 0;\n"
            "#X text 20 200 a comment \\, with a comma;\n#X msg 300 20 \\; s2s-ctl ping;\n"
            "#X connect 0 0 1 0;\n#X connect 0 1 2 0;\n")
    assert layout_problems(good) == []


def test_estimates_match_pd():
    """The rectangles measured on a Pd 0.53 screenshot (see the module docstring)."""
    cv = parse_pd("#N canvas 0 50 900 700 12;\n#X obj 20 80 route s2s;\n#X obj 20 200 oscformat s2s visuals"
                  " intensity, f 9;\n#X msg 20 380 connect localhost 9001;\n#X floatatom 400 80 6 0 0 1 right"
                  " - - 0;\n#X obj 20 20 f;\n")[0]
    assert [b.rect for b in cv.boxes] == [(20, 80, 88, 101), (20, 200, 88, 266), (20, 380, 184, 401),
                                          (400, 80, 445, 100), (20, 20, 46, 41)]
    assert cv.boxes[3].extra == [(447, 80, 482, 100)]


def test_estimates_match_the_real_gui(tmp_path):
    """Each estimated box rectangle is where the real Pd GUI draws the box: the screenshots of
    scripts/pd_screenshot.sh (Xvfb + puredata-gui) show a box border at the estimated left,
    right and bottom edges, and background just right of it. This keeps the checks above honest
    about what a person sees."""
    from helpers import have, require

    for cmd in ("Xvfb", "pd", "import", "xwininfo"):
        require(have(cmd), f"{cmd} is missing (apt-get install xvfb puredata-gui x11-utils imagemagick)")
    from PIL import Image

    import subprocess

    r = subprocess.run(["bash", str(REPO / "scripts" / "pd_screenshot.sh"), str(REPO / "patches" / "s2s.pd"),
                        str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    checked, wrong = 0, []
    for cv in parse_pd((REPO / "patches" / "s2s.pd").read_text()):
        if cv.name == "(subpatch)":
            continue
        png = tmp_path / ("pd-main.png" if cv.name == "top level" else f"pd-{cv.name}.png")
        assert png.exists(), png
        im = Image.open(png).convert("L")
        off = im.height - cv.size[1]  # Pd's menu bar above the canvas
        assert 20 <= off <= 45 and im.width == cv.size[0], (png.name, im.size, cv.size)

        def dark(x, y):
            return 0 <= x < im.width and 0 <= y + off < im.height and im.getpixel((x, y + off)) < 128

        for b in cv.boxes:
            if b.kind not in ("obj", "pd", "floatatom", "symbolatom", "listbox") or b.text.split()[0] in ("tgl", "bng"):
                continue
            x1, y1, x2, y2 = b.rect
            mid = (y1 + y2) // 2
            left = any(dark(x, mid) for x in (x1 - 1, x1, x1 + 1))
            right = any(dark(x, mid) for x in (x2 - 2, x2 - 1, x2))
            bottom = sum(dark(x, y2 - 1) or dark(x, y2) or dark(x, y2 - 2) for x in range(x1 + 2, x2 - 2))
            labelled = any(0 <= e[0] - x2 <= 5 for e in b.extra)  # a label drawn right of the box
            beyond = not labelled and dark(x2 + 2, mid) and dark(x2 + 3, mid)
            checked += 1
            if not (left and right and bottom >= 0.9 * (x2 - x1 - 4) and not beyond):
                wrong.append(f"{cv.name}: [{b.text[:30]}] est. {b.rect} (left {left}, right {right}, "
                             f"bottom {bottom}/{x2 - x1 - 4}, border beyond {beyond})")
    assert checked > 100 and not wrong, f"{len(wrong)} of {checked} boxes drawn elsewhere:\n" + "\n".join(wrong[:30])
