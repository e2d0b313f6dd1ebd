"""The image folder cap (issue 12): ``visuals_keep`` images / ``visuals_keep_mb`` MB, oldest first.

Without it ``out_dir`` grows by ~92 MB an hour with auto images. The cap deletes whole images
(PNG + sidecar + loop) of this package only, oldest first, and never the newest one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from s2s_live.config import Config
from s2s_live.errors import ConfigError
from s2s_live.visuals.controller import VisualsController
from s2s_live.visuals.worker import prune_images


class Events:
    def __init__(self):
        self.items = []

    def __call__(self, address, args):
        self.items.append((address, args))

    def of(self, address):
        return [a for (ad, a) in self.items if ad == address]


def pump(ctl, until, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctl.poll()
        if until():
            return True
        time.sleep(0.01)
    return False


def ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("s2s-"))


def foreign_files(folder: Path) -> dict[str, bytes]:
    """Files the cap must never touch: other names, near-misses of ours, a link, hidden temporaries."""
    files = {"notes.png": b"mine", "s2s-notes.png": b"near miss", "s2s-20200101-000000-1.png": b"4 digits short",
             "S2S-20200101-000000-00001.png": b"case", "s2s-20200101-000000-00001.png.bak": b"suffix",
             ".s2s-20200101-000000-00001.png.1.2.tmp": b"temporary"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    os.symlink(folder / "notes.png", folder / "s2s-20190101-000000-00002.png")
    return files


def write_group(folder: Path, stamp: str, jid: int, size: int = 1000, loop: bool = False) -> None:
    base = f"s2s-{stamp}-{jid:05d}"
    (folder / f"{base}.png").write_bytes(b"p" * size)
    (folder / f"{base}.json").write_text(json.dumps({"id": jid}))
    if loop:
        (folder / f"{base}-loop.png").write_bytes(b"l" * size)
        (folder / f"{base}-loop.json").write_text("{}")


def test_prune_deletes_oldest_whole_images_and_only_ours(tmp_path):
    foreign = foreign_files(tmp_path)
    write_group(tmp_path, "20250101-120000", 7, loop=True)  # an earlier run: the oldest
    for jid in range(1, 13):  # this run; id 100000 sorts after 99999 by number, not by name
        write_group(tmp_path, "20260102-080000", jid)
    write_group(tmp_path, "20260102-080000", 100000)
    def our_bytes():
        return sum((tmp_path / p).stat().st_size for p in ours(tmp_path) if not (tmp_path / p).is_symlink()
                   and p not in foreign)

    before = our_bytes()
    n, freed = prune_images(tmp_path, keep=4)
    assert n == 10
    left = [p for p in ours(tmp_path) if (tmp_path / p).is_file() and not (tmp_path / p).is_symlink()
            and p not in foreign]
    assert left == [f"s2s-20260102-080000-{j:05d}.{e}" for j in (10, 11, 12) for e in ("json", "png")] + \
        ["s2s-20260102-080000-100000.json", "s2s-20260102-080000-100000.png"]
    for name, data in foreign.items():
        assert (tmp_path / name).read_bytes() == data
    assert (tmp_path / "s2s-20190101-000000-00002.png").is_symlink()
    assert freed == before - our_bytes() == 2 * 1000 + 9 + 2 + 9 * (1000 + 9)  # the loop group + 9 more
    assert prune_images(tmp_path, keep=4) == (0, 0)  # idempotent


def test_prune_by_bytes_keeps_the_newest_even_when_it_alone_is_over(tmp_path):
    for jid in range(1, 6):
        write_group(tmp_path, "20260102-080000", jid, size=10_000)
    per = 10_000 + len(json.dumps({"id": 1}))
    n, _ = prune_images(tmp_path, keep_bytes=2 * per + 1)
    assert n == 3 and ours(tmp_path)[-1] == "s2s-20260102-080000-00005.png" and len(ours(tmp_path)) == 4
    n, _ = prune_images(tmp_path, keep_bytes=1)
    assert n == 1 and ours(tmp_path) == ["s2s-20260102-080000-00005.json", "s2s-20260102-080000-00005.png"]
    # protect: a listed image survives (and counts), the next oldest go instead
    for jid in range(6, 9):
        write_group(tmp_path, "20260102-080000", jid)
    n, _ = prune_images(tmp_path, keep=2, protect=("s2s-20260102-080000-00005.png",))
    assert n == 2 and [p for p in ours(tmp_path) if p.endswith(".png")] == [
        f"s2s-20260102-080000-{j:05d}.png" for j in (5, 8)]
    assert prune_images(tmp_path) == (0, 0)  # 0 and 0: no limit


def test_the_cap_is_on_by_default_and_checked_once_in_config():
    cfg = Config()
    assert cfg.visuals_keep == 2000 and cfg.visuals_keep_mb == 500.0
    for kw, text in ((dict(visuals_keep=-1), "visuals_keep=-1 is invalid; expected a number of images in 0..1000000"),
                     (dict(visuals_keep=2.5), "visuals_keep=2.5 is invalid"),
                     (dict(visuals_keep=True), "visuals_keep=True is invalid"),
                     (dict(visuals_keep_mb=-0.5), "visuals_keep_mb=-0.5 is invalid; expected megabytes in 0..1000000"),
                     (dict(visuals_keep_mb=float("nan")), "visuals_keep_mb=nan is invalid")):
        with pytest.raises(ConfigError, match=text.replace(".", r"\.")):
            Config().update(**kw)
    Config().update(visuals_keep=0, visuals_keep_mb=0)  # both limits off is allowed


def test_cli_flag_sets_the_count_cap():
    from s2s_live.cli import build_parser, config_from_args

    p = build_parser()
    assert config_from_args(p.parse_args(["run", "--synth", "--visuals-keep", "20"])).visuals_keep == 20
    assert config_from_args(p.parse_args(["run", "--synth"])).visuals_keep == 2000


def test_worker_keeps_the_newest_images_within_the_cap(tmp_path):
    """More images than the cap through the real worker (procedural backend): the folder holds
    the newest ``visuals_keep`` images with their sidecars, older runs' images went first, the
    operator strip lists only what exists, and other files are untouched."""
    out = tmp_path / "out"
    out.mkdir()
    foreign = foreign_files(out)
    for jid in (1, 2, 3):
        write_group(out, "20200101-000000", jid)  # a previous run, over the cap on its own with keep=2
    ev = Events()
    cfg = Config(visuals="procedural", web_port=0, out_dir=str(out), visuals_auto=False, visuals_min_interval=0.0,
                 visuals_size=64, visuals_live_fps=0.0, visuals_keep=5)
    ctl = VisualsController(cfg, ev, start_timeout=60.0)
    ctl.start()
    try:
        for i in range(12):
            ctl.generate(f"image {i}")
            assert pump(ctl, lambda: len(ev.of("image")) >= i + 1), ev.items
        assert pump(ctl, lambda: ctl.stats()["pruned"] >= 3 + 12 - 5)
        paths = [Path(p) for (_, p) in ev.of("image")]
        pngs = sorted(p for p in ours(out) if p.endswith(".png") and not (out / p).is_symlink() and p not in foreign)
        assert pngs == sorted(p.name for p in paths[-5:])  # the newest five, the last one included
        for p in paths[-5:]:
            assert json.loads(p.with_suffix(".json").read_text())["prompt"] == f"image {int(p.stem[-5:]) - 1}"
        assert not any(p.exists() or p.with_suffix(".json").exists() for p in paths[:-5])
        assert not any("20200101-000000" in p and not (out / p).is_symlink() and p not in foreign for p in ours(out))
        for name, data in foreign.items():
            assert (out / name).read_bytes() == data
        st = ctl.stats()
        assert st["pruned"] == 3 + 12 - 5 and st["pruned_bytes"] > 0 and st["generated"] == 12
        assert not ev.of("error")
    finally:
        ctl.stop()


def test_worker_byte_cap(tmp_path):
    out = tmp_path / "out"
    ev = Events()
    cfg = Config(visuals="procedural", web_port=0, out_dir=str(out), visuals_auto=False, visuals_min_interval=0.0,
                 visuals_size=64, visuals_live_fps=0.0, visuals_keep=0, visuals_keep_mb=0.001)  # 1000 bytes
    ctl = VisualsController(cfg, ev, start_timeout=60.0)
    ctl.start()
    try:
        for i in range(4):
            ctl.generate(f"image {i}")
            assert pump(ctl, lambda: len(ev.of("image")) >= i + 1), ev.items
        assert pump(ctl, lambda: ctl.stats()["pruned"] >= 3)
        newest = Path(ev.of("image")[-1][1])
        assert ours(out) == sorted([newest.name, newest.with_suffix(".json").name])  # over 1000 B alone, kept
        assert newest.stat().st_size > 1000
    finally:
        ctl.stop()
