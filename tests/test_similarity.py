"""Segment map and similarity (issue 7, EAFIT): nearest neighbours, clusters, playlists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s2s_live.offline import similarity
from s2s_live.offline import analyze_paths
from s2s_live.config import Config
from s2s_live.offline.similarity import Hit, Library, cluster, select_segments, similar, write_m3u, write_xspf
from s2s_live.capture.synth import MusicSynth

HOP = 0.5
STYLES = ("techno", "ballad", "reggae")


def render(style: str, *, seconds: float, seed: int) -> np.ndarray:
    return MusicSynth(sr=22050, styles=[style], section_seconds=60, seed=seed).render(seconds)


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory):
    """Three styles, two pieces each (different seeds), analysed without plots."""
    root = tmp_path_factory.mktemp("simlib")
    src = root / "audio"
    src.mkdir()
    for st in STYLES:
        for seed in (1, 2):
            sf.write(src / f"{st}_{seed}.wav", render(st, seconds=6.0, seed=seed), 22050)
    out = root / "out"
    res = analyze_paths([src], out_dir=out, cfg=Config(hop=HOP, window=3.0), progress=False)
    assert all(r.status == "ok" for r in res)
    return {"src": src, "out": out, "root": root}


def style_of(name: str) -> str:
    return name.split("_")[0]


def test_library_segments(lib_dir):
    lib = Library.load(lib_dir["out"])
    assert lib.names == sorted(f"{st}_{s}.wav" for st in STYLES for s in (1, 2))
    # 6-s files, non-overlapping 1-s segments ending at 1..6 s (the quiet ballad stays above -60 dBFS)
    assert len(lib) == 6 * 6
    for fi in range(len(lib.names)):
        np.testing.assert_allclose(lib.start[lib.seg_file == fi], np.arange(6.0))
    assert lib.emb.shape[0] == len(lib) and np.isfinite(lib.emb).all()


@pytest.fixture(scope="module")
def excerpts(lib_dir):
    """Excerpts of library files, written as new files: the same sound as another rendering,
    starting ``CUT`` s into the original (so excerpt time t is original time t + CUT)."""
    d = lib_dir["root"] / "excerpts"
    d.mkdir()
    out = {}
    for name in ("techno_1.wav", "ballad_2.wav", "reggae_1.wav"):
        y, sr = sf.read(lib_dir["src"] / name, dtype="float32")
        out[name] = d / f"cut_{name}"
        sf.write(out[name], y[int(CUT * sr) :], sr)
    return out


CUT = 2.0


@pytest.mark.parametrize("name", ["techno_1.wav", "ballad_2.wav", "reggae_1.wav"])
def test_an_excerpt_finds_its_source_segment_among_distractors(lib_dir, excerpts, name):
    """A query that is not in the library (an excerpt of one file, analysed afresh) finds that
    file's style at the matching time first (the source among the first two), ahead of every
    other segment (measured distances: 0.04-0.13 to the source, 0.12-0.37 to the
    other piece of the style); it is not the library's own vector (distance > 0)."""
    lib = Library.load(lib_dir["out"])
    for at in (1.0, 2.0):
        label, hits = similar(f"{excerpts[name]}@{at}", lib, k=len(lib), cfg=Config(hop=HOP, window=3.0))
        assert label == f"cut_{name} @ {at:g} s"
        shown = [(h.name, h.start, round(h.distance, 3)) for h in hits[:4]]
        # the matching time of this style first; the source itself among the first two (the two
        # ballad seeds differ too little to tell apart reliably: 0.124 vs 0.137 measured)
        assert hits[0].start == at + CUT and style_of(hits[0].name) == style_of(name), shown
        assert (name, at + CUT) in [(h.name, h.start) for h in hits[:2]], shown
        assert hits[0].distance > 0.0
        # the other styles' segments all lie farther than the same style's pieces at that time
        same_time = [h for h in hits if style_of(h.name) == style_of(name) and h.start == at + CUT]
        others = [h for h in hits if style_of(h.name) != style_of(name)]
        assert max(h.distance for h in same_time) < min(h.distance for h in others)


def test_same_style_segments_cluster_together(lib_dir):
    from sklearn.metrics import adjusted_rand_score

    lib = Library.load(lib_dir["out"])
    truth = [style_of(lib.names[f]) for f in lib.seg_file]
    labels, k, _ = cluster(lib.emb, k=3, seed=0)
    assert k == 3
    assert adjusted_rand_score(truth, labels) > 0.9
    # and a segment's nearest *other-file* neighbour is the other piece of the same style
    agree = 0
    for i in range(len(lib)):
        h = lib.nearest(lib.emb[i], 1, exclude_file=int(lib.seg_file[i]))[0]
        agree += style_of(h.name) == truth[i]
    assert agree / len(lib) > 0.9


def test_similar_query_by_file_time_and_by_new_file(lib_dir, tmp_path):
    label, hits = similar(f"{lib_dir['src'] / 'reggae_1.wav'}@3.2", lib_dir["out"], k=5)
    assert hits[0].name == "reggae_1.wav" and hits[0].start == 3.0 and hits[0].distance < 1e-9
    assert "reggae_1.wav @ 3 s" == label
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(a.distance <= b.distance for a, b in zip(hits, hits[1:]))
    _, others = similar(f"{lib_dir['src'] / 'reggae_1.wav'}@3", lib_dir["out"], k=5, other_files=True)
    assert all(h.name != "reggae_1.wav" for h in others)
    # a file outside the library is analysed with the same models; its neighbours share its style
    new = tmp_path / "new_techno.wav"
    sf.write(new, render("techno", seconds=4.0, seed=7), 22050)
    _, hits = similar(str(new), lib_dir["out"], k=6, cfg=Config(hop=HOP, window=3.0))
    assert sum(style_of(h.name) == "techno" for h in hits) >= 5


def test_map_clusters_and_playlists(lib_dir, tmp_path):
    import matplotlib.image as mpimg

    lib = Library.load(lib_dir["out"])
    info = similarity.write_map(lib, tmp_path, k=3)
    assert info["k"] == 3 and sum(c["size"] for c in info["clusters"]) == len(lib)
    img = mpimg.imread(tmp_path / "map.png")
    assert img.shape[0] >= 300 and img[..., :3].std() > 0.05
    rows = (tmp_path / "segments.csv").read_text().splitlines()
    assert rows[0] == "name,file,start,end,cluster,x,y,genre" and len(rows) == len(lib) + 1
    m3u = (tmp_path / "cluster_00.m3u").read_text().splitlines()
    assert m3u[0] == "#EXTM3U" and any(l.startswith("#EXTVLCOPT:start-time=") for l in m3u)
    info2 = similarity.write_map(lib, tmp_path / "auto")  # k by silhouette
    assert 2 <= info2["k"] <= 10 and info2["silhouette"]


def test_m3u_and_xspf_have_start_times(tmp_path):
    f = tmp_path / "a song.wav"
    hits = [Hit(1, 0.0, "a", str(f), 12.0, 13.0, "rock"), Hit(2, 0.5, "a", str(f), 3.5, 4.5, "")]
    write_m3u(tmp_path / "p.m3u", hits)
    lines = (tmp_path / "p.m3u").read_text().splitlines()
    assert lines[:5] == ["#EXTM3U", "#EXTINF:1,a song @ 12 s", "#EXTVLCOPT:start-time=12",
                         "#EXTVLCOPT:stop-time=13", str(f)]
    assert "#EXTVLCOPT:start-time=3.5" in lines
    write_xspf(tmp_path / "p.xspf", hits)
    ns = {"x": "http://xspf.org/ns/0/", "vlc": "http://www.videolan.org/vlc/playlist/0"}
    root = ET.parse(tmp_path / "p.xspf").getroot()
    tracks = root.findall("x:trackList/x:track", ns)
    assert len(tracks) == 2
    assert tracks[0].find("x:location", ns).text == f.as_uri()
    opts = [o.text for o in tracks[1].findall("x:extension/vlc:option", ns)]
    assert opts == ["start-time=3.5", "stop-time=4.5"]
    assert tracks[0].find("x:duration", ns).text == "1000"


def test_select_segments():
    t = np.arange(1, 25) * 0.25  # hop 0.25: frames end at 0.25 .. 6.0
    idx = select_segments(t, hop=0.25)
    np.testing.assert_allclose(t[idx], [1, 2, 3, 4, 5, 6])
    t = np.arange(1, 21) * 0.3  # hop 0.3: the nearest frame within 0.15 s
    idx = select_segments(t, hop=0.3)
    assert np.all(np.abs(t[idx] - np.round(t[idx])) <= 0.15 + 1e-9)
    assert select_segments(np.zeros(0), hop=0.5).size == 0
    with pytest.raises(ValueError, match="segment"):
        select_segments(t, hop=0.3, segment=0)


def test_cluster_picks_k_by_silhouette():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    x = np.concatenate([c + rng.normal(0, 0.5, size=(30, 2)) for c in centres])
    labels, k, scores = cluster(x, seed=0)
    assert k == 4 and max(scores, key=scores.get) == 4
    assert len(set(labels[:30])) == 1
    with pytest.raises(ValueError, match="k="):
        cluster(x, k=0)


def test_parse_query_and_errors(tmp_path):
    assert similarity.parse_query("song.wav@12.5") == ("song.wav", 12.5)
    assert similarity.parse_query("song.wav") == ("song.wav", None)
    odd = tmp_path / "me@home.wav"
    odd.write_bytes(b"")
    assert similarity.parse_query(str(odd)) == (str(odd), None)  # an existing path wins
    with pytest.raises(ValueError, match="seconds"):
        similarity.parse_query("song.wav@-3")
    with pytest.raises(similarity.LibraryError, match="no analysed files"):
        Library.load(tmp_path)
    with pytest.raises(similarity.LibraryError, match="not a folder"):
        Library.load(tmp_path / "nope")


def test_cli_map(lib_dir, tmp_path, capsys):
    from s2s_live.cli import main

    rc = main(["map", str(lib_dir["out"]), "-k", "3", "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "36 segments of 6 files" in out and (tmp_path / "map.png").is_file()
    rc = main(["similar", f"{lib_dir['src'] / 'ballad_2.wav'}@1", "--library", str(lib_dir["out"]), "-k", "4",
               "--m3u", str(tmp_path / "s.m3u"), "--xspf", str(tmp_path / "s.xspf")])
    assert rc == 0
    assert "ballad_2.wav" in capsys.readouterr().out
    assert (tmp_path / "s.m3u").read_text().count("#EXTVLCOPT:start-time=") == 4
    assert Path(tmp_path / "s.xspf").read_text().count("<track>") == 4
