"""Plain JSON values from numpy ones (the one converter: analysis tables and summaries, image
sidecars). Arrays become lists, numpy scalars Python numbers, tuples lists, dict keys strings, and
non-finite floats ``null`` (JSON has no NaN)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def jsonable(x: Any) -> Any:
    """``x`` with every numpy value replaced by its plain JSON equivalent (recursively)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    return x
