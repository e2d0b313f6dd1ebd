"""The fixed case behind tests/test_output_identity.py (issue 13: the re-layout changes no output).

A seeded synth excerpt goes through the processors ``analyze`` builds from the default config
(taggers and heads included) and through every OSC profile's frame messages. ``python
tests/identity_case.py --write`` stores the reference in tests/data/output_identity.npz and
prints a digest of the exact bytes, so a move can be checked bit for bit on one machine; the
test compares values with a tolerance so that another CPU's last-bit rounding does not fail it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REF = Path(__file__).parent / "data" / "output_identity.npz"
SR = 22050
SECONDS = 8.0
SEED = 3


def compute() -> tuple[list[dict], dict[str, list[bytes]], list[str]]:
    """Rows of the analysis table, the datagrams per profile, and the table's columns."""
    from s2s_live import offline as analysis
    from s2s_live import osc as osc_out
    from s2s_live.config import Config
    from s2s_live.pipeline import analyze_array
    from s2s_live.capture.synth import MusicSynth

    cfg = Config()
    y = MusicSynth(sr=SR, seed=SEED, section_seconds=4.0).render(SECONDS)
    procs = analysis.analysis_processors(cfg)
    rows = analyze_array(y, SR, procs, hop=cfg.hop)
    outputs = [o for p in procs for o in p.outputs]
    columns, _ = analysis.table_columns(outputs)
    table = analysis.build_table(rows, columns)
    # the summary rides along as one more "row" so summarize() is covered too
    table.append({"summary": analysis.summarize(table, rows, outputs)})
    msgs = {}
    for name in sorted(osc_out.PROFILES):
        prof = osc_out.make_profile(name)
        prof.bind(outputs)
        msgs[name] = [m for r in rows for m in prof.frame_messages(r, r["index"], r["time"])]
    return table, msgs, [c.name if hasattr(c, "name") else str(c) for c in columns]


def flatten(table: list[dict], msgs: dict[str, list[bytes]]) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(table keys, table numbers, message structure, message float args) for comparison."""
    from s2s_live.osc import decode_message

    keys, nums = [], []

    def walk(path: str, v) -> None:
        if isinstance(v, dict):
            for k in sorted(v):
                walk(f"{path}/{k}", v[k])
        elif isinstance(v, (list, tuple, np.ndarray)):
            for j, x in enumerate(v):
                walk(f"{path}[{j}]", x)
        elif isinstance(v, (bool, np.bool_, str)) or v is None:
            keys.append(f"{path}={v}")
        else:
            keys.append(path)
            nums.append(float(v))

    for i, row in enumerate(table):
        walk(str(i), row)
    struct, floats = [], []
    for name, ms in msgs.items():
        for m in ms:
            addr, tags, args = decode_message(m)
            struct.append(f"{name} {addr} {tags} " + " ".join(str(a) for t, a in zip(tags, args) if t in "is"))
            floats.extend(float(a) for t, a in zip(tags, args) if t == "f")
    return keys, np.asarray(nums, dtype=np.float64), struct, np.asarray(floats, dtype=np.float64)


def digest(table: list[dict], msgs: dict[str, list[bytes]]) -> str:
    """sha256 of the exact table values and datagram bytes (same machine, bit for bit)."""
    h = hashlib.sha256()
    h.update(json.dumps(table, sort_keys=True, default=repr).encode())
    for name in sorted(msgs):
        for m in msgs[name]:
            h.update(m)
    return h.hexdigest()


if __name__ == "__main__":
    table, msgs, _ = compute()
    print("digest", digest(table, msgs))
    if "--write" in sys.argv:
        keys, nums, struct, floats = flatten(table, msgs)
        np.savez_compressed(REF, keys=np.array(keys), nums=nums, struct=np.array(struct), floats=floats)
        print(f"wrote {REF}: {len(keys)} table cells, {len(struct)} datagrams, {floats.size} floats")
