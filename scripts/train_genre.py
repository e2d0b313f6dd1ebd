#!/usr/bin/env python
"""Train the shipped genre model: `python scripts/train_genre.py --data PATH [--out models]` (see docs/models.md)."""
import sys

from s2s_live.train.commands import main

if __name__ == "__main__":
    sys.exit(main(["train", "genre", *sys.argv[1:]], prog="scripts/train_genre.py",
                  record=" ".join(["python", "scripts/train_genre.py", *sys.argv[1:]])))
