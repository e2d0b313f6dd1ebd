"""Convert the pretrained musicnn taggers (PyPI wheel ``musicnn==0.1.0``) to ONNX model folders.

The wheel (ISC licence, Music Technology Group, Universitat Pompeu Fabra; code by Jordi Pons)
ships TF1 checkpoints of two taggers trained on far more music than GTZAN:

* ``MSD_musicnn`` — Million Song Dataset, 50 Last.fm tags (genres, moods, decades, vocals);
* ``MTT_musicnn`` — MagnaTagATune, 50 tags (instruments, vocals, genres).

``import_meta_graph`` on the shipped ``.meta`` fails (FusedBatchNormGrad shapes), so the graph is
rebuilt with the wheel's own ``models.py`` in inference mode (``is_training=False``), the
checkpoint is restored, frozen and converted with tf2onnx (opset 17). TensorFlow is needed only
here (``pip install tensorflow-cpu tf_keras tf2onnx``, ``TF_USE_LEGACY_KERAS=1`` because the
wheel's ``tf.compat.v1.layers`` code fails under Keras 3), never at run time.

Each output folder gets ``model.onnx`` (one file), ``card.json`` (input recipe, the 50 tag
names, outputs, sha256, provenance, TF-vs-ONNX parity on real patches) and ``LICENSE`` (the
wheel's ISC notice, which must travel with the weights).
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..inference.card import MODEL_FILE, sha256_file, write_card

#: Tagger input recipe (the musicnn front end): see s2s_live/dsp/mel.py.
N_FRAMES = 187  #: 3 s of 16 kHz audio at hop 256 (librosa.time_to_frames(3) + 1)
N_MELS = 96
OPSET = 17
TAGGERS = {"MSD_musicnn": "tagger-msd", "MTT_musicnn": "tagger-mtt"}
PARITY_TOL = 1e-5


def unpack(wheel_or_dir: str | Path, into: str | Path) -> Path:
    """The folder holding ``musicnn/`` and its ``*.dist-info``: the unpacked wheel."""
    p = Path(wheel_or_dir)
    if p.is_dir():
        root = p
    elif p.is_file() and p.suffix == ".whl":
        with zipfile.ZipFile(p) as z:
            z.extractall(into)
        root = Path(into)
    else:
        raise FileNotFoundError(f"musicnn wheel or folder {str(p)!r} not found "
                                "(get it with: pip download --no-deps musicnn==0.1.0)")
    if not (root / "musicnn" / "models.py").is_file():
        raise FileNotFoundError(f"{str(root)!r} holds no musicnn/models.py: not the musicnn wheel")
    return root


def licence_text(root: Path) -> str:
    for lic in sorted(root.glob("musicnn-*.dist-info/LICENSE*")):
        return lic.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no LICENSE in {str(root)!r}/musicnn-*.dist-info: the ISC notice must travel with the weights")


def _import_wheel(root: Path):
    """Import the wheel's ``musicnn.models`` and ``musicnn.configuration`` from ``root``."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.path.insert(0, str(root))
    try:
        from musicnn import configuration, models  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root))
    return models, configuration


def freeze(root: Path, model: str):
    """Rebuild ``model`` in inference mode, restore its checkpoint, return (graph_def, labels)."""
    import tensorflow as tf

    models, cfg = _import_wheel(root)
    labels = list(cfg.MSD_LABELS if model.startswith("MSD") else cfg.MTT_LABELS)
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS], name="logmel")
        with tf.name_scope("model"):
            out = models.define_model(x, False, model, len(labels))
        logits, penultimate = out[0], out[-1]
        tf.identity(tf.nn.sigmoid(logits), name="tags")
        tf.identity(penultimate, name="embedding")
        sess = tf.compat.v1.Session(graph=graph)
        tf.compat.v1.train.Saver().restore(sess, str(root / "musicnn" / model) + "/")
        gd = tf.compat.v1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["tags", "embedding"])
    return gd, labels, sess, graph


def tf_run(sess, graph, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with graph.as_default():
        return tuple(sess.run(["tags:0", "embedding:0"], {"logmel:0": patches}))  # type: ignore[return-value]


def to_onnx(graph_def, path: Path) -> None:
    import onnx
    import tf2onnx

    model_proto, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=["logmel:0"],
                                                   output_names=["tags:0", "embedding:0"], opset=OPSET)
    # plain names for the card and the engine
    rename = {"logmel:0": "logmel", "tags:0": "tags", "embedding:0": "embedding"}
    g = model_proto.graph
    for node in g.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    for v in list(g.input) + list(g.output):
        v.name = rename.get(v.name, v.name)
    onnx.checker.check_model(model_proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model_proto, str(path), save_as_external_data=False)


def real_patches(audio: list[str], per_file: int = 2) -> np.ndarray:
    """Log-mel patches of real recordings, computed as the wheel's own extractor does (librosa)."""
    import librosa

    out = []
    for f in audio:
        y, _ = librosa.load(f, sr=16000, mono=True)
        m = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=N_MELS).T
        lm = np.log10(1.0 + 10000.0 * m).astype(np.float32)
        starts = np.linspace(0, lm.shape[0] - N_FRAMES, per_file).astype(int)
        out += [lm[s : s + N_FRAMES] for s in starts]
    return np.stack(out).astype(np.float32)


def card_for(name: str, model: str, labels: list[str], sha: str, parity: dict, wheel: str) -> dict:
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    data = ("Million Song Dataset (Last.fm top-50 tags)" if model.startswith("MSD")
            else "MagnaTagATune (top-50 tags)")
    return {
        "name": name, "kind": "tagger", "version": "1", "created": now,
        "input": {"name": "logmel", "dtype": "float32", "shape": [1, N_FRAMES, N_MELS], "kind": "logmel",
                  "recipe": "musicnn-logmel", "recipe_version": 1, "sample_rate": 16000,
                  "length": N_FRAMES,
                  "recipe_doc": "16 kHz mono; STFT n_fft 512, hop 256, Hann, centred; 96 Slaney mel bands "
                                "(librosa.filters.mel) of power; log10(1 + 10000*x); 187 frames = 3 s"},
        "outputs": [
            {"name": "tags", "dtype": "float32", "shape": [1, len(labels)], "range": [0.0, 1.0],
             "labels": labels, "doc": "tag probabilities (sigmoid)"},
            {"name": "embedding", "dtype": "float32", "shape": [1, 200],
             "doc": "penultimate dense layer after batch norm (200-d)"},
        ],
        "metrics": {"onnx_vs_tensorflow": parity},
        "training": {"data": data, "split": "by the original authors (Pons & Serra 2019, musicnn)",
                     "hyperparameters": {"model": model}, "seed": None,
                     "command": f"python scripts/convert_musicnn.py --wheel {wheel} --audio <real clips> --out models"},
        "provenance": {"source": "PyPI wheel musicnn==0.1.0, folder musicnn/" + model,
                       "authors": "Jordi Pons, Xavier Serra; Music Technology Group, Universitat Pompeu Fabra",
                       "licence": "ISC (LICENSE beside this card)",
                       "paper": "Pons & Serra, musicnn: pre-trained convolutional neural networks for music "
                                "audio tagging, ISMIR 2019 LBD"},
        "sha256": sha,
    }


def convert(wheel: str | Path, out_dir: str | Path, audio: list[str], *, ref_out: str | Path | None = None,
            ref_patches: np.ndarray | None = None, log=print) -> dict:
    """Convert both taggers; returns {folder name: parity dict}. ``ref_out`` (a .npz path) stores
    ``ref_patches`` with the TensorFlow outputs for the tests."""
    import onnxruntime as ort

    out_dir = Path(out_dir)
    results = {}
    refs: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = unpack(wheel, tmp)
        notice = licence_text(root)
        patches = real_patches(audio) if audio else None
        for model, name in TAGGERS.items():
            gd, labels, sess, graph = freeze(root, model)
            folder = out_dir / name
            to_onnx(gd, folder / MODEL_FILE)
            ort_s = ort.InferenceSession(str(folder / MODEL_FILE), providers=["CPUExecutionProvider"])
            parity = {}
            for what, p in (("real", patches), ("reference", ref_patches)):
                if p is None:
                    continue
                t_tags, t_emb = tf_run(sess, graph, p)
                o_tags, o_emb = ort_s.run(["tags", "embedding"], {"logmel": p})
                parity[what] = {"patches": int(p.shape[0]),
                                "tags_max_abs": float(np.max(np.abs(t_tags - o_tags))),
                                "embedding_max_abs": float(np.max(np.abs(t_emb - o_emb)))}
                if parity[what]["tags_max_abs"] > PARITY_TOL:
                    raise RuntimeError(f"{name}: ONNX tags differ from TensorFlow by "
                                       f"{parity[what]['tags_max_abs']:.3g} > {PARITY_TOL}")
                if what == "reference":
                    refs[f"{name}/tags"], refs[f"{name}/embedding"] = t_tags, t_emb
            if patches is not None:
                parity["real"]["files"] = [Path(a).name for a in audio]
            sess.close()
            (folder / "LICENSE").write_text(notice, encoding="utf-8")
            write_card(folder, card_for(name, model, labels, sha256_file(folder / MODEL_FILE), parity, Path(wheel).name))
            log(f"{name}: {folder / MODEL_FILE} ({(folder / MODEL_FILE).stat().st_size / 1e6:.2f} MB), parity {parity}")
            results[name] = parity
    if ref_out is not None and ref_patches is not None:
        np.savez_compressed(ref_out, patches=ref_patches, **{k.replace("/", "__"): v for k, v in refs.items()})
    return results
