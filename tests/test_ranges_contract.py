"""docs/osc.md's Range column is a contract (issue 12).

Two checks against the *Range* column of the fast- and frame-stream tables:

* every output the engine declares (default pipeline, every shipped model) has a documented
  range equal to its declared one: the numbers of the cell span exactly the declared
  ``(lo, hi)``; a float output without a declared range is documented as ``open`` (normalised
  profiles send it through the logistic, not linearly from a range);
* every value the pipeline produces on real signals — silence, a full-scale sine, one at 4x full
  scale, full-scale white noise, clicks at 120 BPM and the built-in synth — lies in the
  documented set (``0, 60..200`` is 0 or a number in 60..200), compared at float32 precision.

The pipeline is the engine's (the raw ``s2s`` profile sends these values unchanged).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from helpers import click_track, parse_osc_doc, sine

from s2s_live.config import Config
from s2s_live.pipeline import Pipeline, build_processors
from s2s_live.capture.synth import MusicSynth

SR = 44100
SECONDS = 10.0
SECTIONS = ("Outgoing: fast stream", "Outgoing: frame stream", "Outgoing: events")
INT32_MAX = 2**31 - 1
OPEN = "open"
NUM = r"-?\d+(?:\.\d+)?"


def parse_element(text: str, n_labels: int) -> list[tuple[float, float]] | str | None:
    """One element's documented set: a union of closed intervals (a point is (x, x)), OPEN, or
    None when the cell names no number (strings: labels, words, key names)."""
    t = text.replace("−", "-").strip()
    if t.startswith(OPEN):
        return OPEN
    parts = []
    for alt in re.split(r",\s*|\s+or\s+", t):
        alt = alt.strip()
        m = re.match(rf"^({NUM})\.\.(N-1|{NUM})?(?![\d.])", alt)
        if m:
            hi = m.group(2)
            parts.append((float(m.group(1)), math.inf if hi is None else
                          float(n_labels - 1) if hi == "N-1" else float(hi)))
            continue
        m = re.match(rf"^({NUM})(?![\d.])", alt)
        if m:
            parts.append((float(m.group(1)),) * 2)
    return parts or None


def parse_cell(cell: str, tags: str, n_labels: int, *, mixed: bool) -> list:
    """The documented set of each element of an output with OSC type tags ``tags``: for mixed
    outputs (declared as a tag string: ``sf``, ``ff``, ``sfsfsf``) the cell lists one set per
    element, ``×k`` repeating the list; otherwise one set for every element (commas and "or"
    join alternatives)."""
    if not mixed:
        return [parse_element(cell, n_labels)] * len(tags)
    rep = 1
    m = re.search(r"\s*×\s*(\d+)\s*$", cell)
    if m:
        rep, cell = int(m.group(1)), cell[:m.start()]
    elems = [parse_element(c, n_labels) for c in cell.split(",")] * rep
    assert len(elems) == len(tags), f"documented range {cell!r} lists {len(elems)} elements for types {tags}"
    return elems


def test_the_parser_reads_the_notations_of_the_page():
    assert parse_element("0..1", 0) == [(0.0, 1.0)]
    assert parse_element("−120..0 dBFS", 0) == [(-120.0, 0.0)]
    assert parse_element("0, 60..200 BPM", 0) == [(0.0, 0.0), (60.0, 200.0)]
    assert parse_element("0 or 50..1000 Hz", 0) == [(0.0, 0.0), (50.0, 1000.0)]
    assert parse_element("0.. (counter)", 0) == [(0.0, math.inf)]
    assert parse_element("0..N−1", 14) == [(0.0, 13.0)]
    assert parse_element("open (VAE mean)", 0) == OPEN
    assert parse_element("happy/tense/sad/calm", 0) is None and parse_element("e.g. `A minor`", 0) is None
    assert parse_cell("label, 0..1", "sf", 3, mixed=True) == [None, [(0.0, 1.0)]]
    assert parse_cell("word, 0..1 ×3", "sfsfsf", 0, mixed=True) == [None, [(0.0, 1.0)]] * 3
    assert parse_cell("0..1, 0..1", "ff", 0, mixed=True) == [[(0.0, 1.0)], [(0.0, 1.0)]]
    assert parse_cell("0, 60..200 BPM", "f", 0, mixed=False) == [[(0.0, 0.0), (60.0, 200.0)]]
    assert parse_cell("0..1", "fff", 0, mixed=False) == [[(0.0, 1.0)]] * 3


@pytest.fixture(scope="module")
def declared():
    procs = build_processors(Config())
    outs = [o for p in procs for o in p.outputs if o.osc_address]
    names = {o.name for o in outs}
    # the shipped models must all be there, or the contract covers less than it claims
    assert {"genre/probs", "emotion", "latent", "tags/msd", "instruments", "features/mfcc", "bpm"} <= names
    return procs, outs


def _rows():
    return {r["address"]: r for r in parse_osc_doc() if r["section"].startswith(SECTIONS)}


def _tags(o) -> str:
    return o.type if len(o.type) > 1 else o.type * o.shape


def _doc_sets(o, rows) -> list:
    row = rows.get(f"/s2s/{o.osc_address}")
    assert row is not None, f"/s2s/{o.osc_address} is declared but has no row in the outgoing tables of docs/osc.md"
    return parse_cell(row["rng"], _tags(o), len(o.labels), mixed=len(o.type) > 1)


def test_every_declared_range_is_the_documented_one(declared):
    _, outs = declared
    rows = _rows()
    problems = []
    for o in outs:
        sets = _doc_sets(o, rows)
        cell = rows[f"/s2s/{o.osc_address}"]["rng"]
        for t, s in zip(_tags(o), sets):
            if t == "s":
                if s is not None:
                    problems.append(f"/s2s/{o.osc_address}: a string element documented with numbers {cell!r}")
                continue
            if o.range is None:
                if t == "f" and s != OPEN:
                    problems.append(f"/s2s/{o.osc_address}: declares no range (normalised profiles use the "
                                    f"logistic) but docs/osc.md says {cell!r}; document it as 'open'")
                continue
            if s is None or s == OPEN:
                problems.append(f"/s2s/{o.osc_address}: declared range {o.range}, documented {cell!r}")
                continue
            lo, hi = min(a for a, _ in s), max(b for _, b in s)
            dlo, dhi = float(o.range[0]), float(o.range[1])
            if t == "i" and dhi >= INT32_MAX:
                dhi = math.inf
            if (lo, hi) != (dlo, dhi):
                problems.append(f"/s2s/{o.osc_address}: declared range {dlo:g}..{dhi:g}, documented {cell!r} "
                                f"({lo:g}..{hi:g})")
    assert not problems, "\n".join(dict.fromkeys(problems))  # once per output, not per element


def _signals() -> dict[str, np.ndarray]:
    n = int(SR * SECONDS)
    rng = np.random.default_rng(12)
    return {
        "silence": np.zeros(n, np.float32),
        "sine 440 Hz full scale": sine(freq=440.0, sr=SR, seconds=SECONDS, amp=1.0),
        "sine 4x full scale": 4.0 * sine(freq=440.0, sr=SR, seconds=SECONDS, amp=1.0),
        "white noise full scale": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "clicks 120 BPM": click_track(bpm=120.0, sr=SR, seconds=SECONDS),
        "synth": MusicSynth(sr=SR, seed=0).render(SECONDS),
    }


@pytest.fixture(scope="module")
def seen(declared):
    """Per output name: per element, (min, max, signal of the min, signal of the max) of every value
    the pipeline produced (each fast block and each frame) over all signals."""
    procs, outs = declared
    by_name = {o.name: o for o in outs}
    acc: dict[str, list] = {}
    bpm_values: list[float] = []

    def record(values: dict, where: str) -> None:
        for k, v in values.items():
            o = by_name.get(k)
            if o is None:
                continue
            elems = list(v) if isinstance(v, (tuple, list, np.ndarray)) else [v]
            if len(elems) != len(_tags(o)):  # one value per element, or the contract cannot be read
                raise AssertionError(f"{k}: {len(elems)} values for types {_tags(o)}")
            slot = acc.setdefault(k, [None] * len(elems))
            for i, (t, x) in enumerate(zip(_tags(o), elems)):
                if t == "s":
                    continue
                x = float(x)
                cur = slot[i] or [math.inf, -math.inf, "", ""]
                if not math.isfinite(x):  # never NaN or Inf, whatever the range says
                    raise AssertionError(f"{k}[{i}] = {x} on {where}")
                if x < cur[0]:
                    cur[0], cur[2] = x, where
                if x > cur[1]:
                    cur[1], cur[3] = x, where
                slot[i] = cur
            if k == "bpm":
                bpm_values.append(float(v))

    for name, y in _signals().items():
        pipe = Pipeline(samplerate=SR, channels=[0], processors=procs, hop=0.25, drop_late=False)
        pipe.reset()
        pipe.warmup()
        y2 = np.ascontiguousarray(np.asarray(y, np.float32).reshape(-1, 1))
        parts = [y2[i:i + 4096] for i in range(0, y2.shape[0], 4096)]
        parts.append(np.zeros((pipe.assembler.flush_pad(), 1), np.float32))
        for part in parts:
            pipe.push(part, part.shape[0])
            pipe.run_fast(lambda values, last, name=name: record(values, name))
            while True:
                f = pipe.run_frame()
                if f is None:
                    break
                record(f.values, name)
    return acc, bpm_values


def _inside(x: float, s) -> bool:
    if s == OPEN:
        return math.isfinite(x)
    x32 = np.float32(x)
    return any(np.float32(a) <= x32 <= np.float32(b) for a, b in s)


def test_values_on_real_signals_lie_in_the_documented_ranges(declared, seen):
    _, outs = declared
    acc, bpm_values = seen
    rows = _rows()
    problems = []
    for o in outs:
        if o.name not in acc:
            continue
        sets = _doc_sets(o, rows)
        cell = rows[f"/s2s/{o.osc_address}"]["rng"]
        for i, (t, s, got) in enumerate(zip(_tags(o), sets, acc[o.name])):
            if t == "s" or got is None:
                continue
            lo, hi, where_lo, where_hi = got
            for x, where in ((lo, where_lo), (hi, where_hi)):
                if not _inside(x, s):
                    problems.append(f"/s2s/{o.osc_address}[{i}] = {x:.6g} on {where}, documented {cell!r}")
    # a union (bpm: 0 or 60..200): min and max can lie inside while a value falls in the gap
    doc_bpm = _doc_sets(next(o for o in outs if o.name == "bpm"), rows)[0]
    gaps = sorted({round(b, 3) for b in bpm_values if not _inside(b, doc_bpm)})
    if gaps:
        problems.append(f"/s2s/bpm took {gaps[:5]} outside the documented {doc_bpm}")
    assert not problems, "\n".join(problems)
    # the signals reached the outputs they are meant to exercise
    assert {"features/mfcc", "bpm", "latent", "genre", "tags", "features/dbfs"} <= set(acc)
    assert acc["features/mfcc"][0][0] < -1100.0  # silence: every mel band on the 1e-10 floor
    assert acc["features/dbfs"][0][1] == 0.0  # 4x full scale reads as full scale
    assert max(bpm_values) > 100.0  # the clicks' pulse was found
