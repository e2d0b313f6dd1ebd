"""scripts/probe.py end to end with tiny counts (issue 12): the real engine on loopback, every
phase run, and the printed table says each one survived."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from s2s_live.config import DEFAULT_MODELS_DIR

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("osc-fuzz", "http", "websocket", "clients", "audio-files", "model-load")


def test_probe_tiny_run_every_phase_survives(tmp_path):
    assert (Path(DEFAULT_MODELS_DIR) / "genre" / "card.json").is_file()
    out = tmp_path / "rows.json"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "probe.py"), "--datagrams", "200", "--http", "10",
                        "--ws", "1", "--slow", "2", "--conns", "5", "--time-limit", "30", "--json", str(out)],
                       capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = {m.group(1): m.groups()[1:] for m in
             re.finditer(r"^\| (\S+)\s*\|\s*(\d+) \|\s*(\d+) \|\s*(\d+) \| (yes|no)\s*\|$", r.stdout, re.M)}
    assert set(table) == set(PHASES), r.stdout[-3000:]
    for phase, (sent, _counted, faults, survived) in table.items():
        assert int(sent) > 0 and faults == "0" and survived == "yes", (phase, r.stdout[-3000:])
    rows = json.loads(out.read_text())["rows"]
    assert [row["phase"] for row in rows] == list(PHASES) and all(row["survived"] for row in rows)
    assert "all phases survived" in r.stdout
