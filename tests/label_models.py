"""Tiny genre models with any label list, for tests that a changing label count is followed.

The model is a real ONNX graph (Gemm + Softmax on the live GTZAN recipe vector) with a card
written by the product's own :func:`s2s_live.inference.card.write_card`, so the engine loads it
through the same host, card checks and hot swap as the shipped models. Built with ``onnx``'s
helper API only: no training, a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: A 14-label vocabulary like the coming default genre model (not the GTZAN ten).
LABELS14 = ("blues", "classical", "country", "electronic", "folk", "hiphop", "jazz", "latin", "metal",
            "ambient", "pop", "reggae", "rock", "soul")
#: The GTZAN ten, as the old model (kept selectable as ``genre-gtzan``) has them.
LABELS10 = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


def make_genre_model(models_dir: Path, name: str, labels, *, seed: int = 0) -> Path:
    """Write ``models_dir/name/{model.onnx,card.json}``: a genre classifier over ``labels``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from s2s_live.inference import card as modelcard
    from s2s_live.features.recipe import GTZAN_FEATURES, GTZAN_RECIPE_ID, GTZAN_RECIPE_VERSION

    n_in, n_out = len(GTZAN_FEATURES), len(labels)
    rng = np.random.default_rng(seed)
    # Small weights on the raw recipe statistics (centroids ~1e3 Hz): probabilities that move
    # with the music but rarely saturate to one-hot.
    w = (rng.standard_normal((n_in, n_out)) * 1e-3).astype(np.float32)
    b = (rng.standard_normal(n_out) * 0.1).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["features", "W", "B"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)],
        f"genre_{n_out}",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, n_out])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime the project supports
    folder = Path(models_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / modelcard.MODEL_FILE))
    modelcard.write_card(folder, {
        "name": name, "kind": "genre", "version": "test",
        "input": {"name": "features", "dtype": "float32", "shape": [1, n_in], "kind": "features",
                  "recipe": GTZAN_RECIPE_ID, "recipe_version": GTZAN_RECIPE_VERSION,
                  "names": list(GTZAN_FEATURES)},
        "outputs": [{"name": "probs", "dtype": "float32", "shape": [1, n_out], "range": [0.0, 1.0],
                     "labels": list(labels), "osc": "genre/probs", "top": "genre", "top_type": "sf",
                     "id": "genre/id", "changed": "genre/changed"}],
        "training": {"data": "none: random weights for protocol tests", "seed": seed},
    })
    return folder
