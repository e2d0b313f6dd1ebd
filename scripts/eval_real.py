#!/usr/bin/env python
"""Real-music evaluation, old and new models side by side (artist-disjoint): see docs/models.md.

    python scripts/eval_real.py --data ../shared/data/4q_train --json eval_real.json
"""
import sys

from s2s_live.train.realeval import _main

if __name__ == "__main__":
    sys.exit(_main())
