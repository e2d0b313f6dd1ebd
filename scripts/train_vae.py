#!/usr/bin/env python
"""Train the shipped vae model: `python scripts/train_vae.py --data PATH [--out models]` (see docs/models.md)."""
import sys

from s2s_live.train.commands import main

if __name__ == "__main__":
    sys.exit(main(["train", "vae", *sys.argv[1:]], prog="scripts/train_vae.py",
                  record=" ".join(["python", "scripts/train_vae.py", *sys.argv[1:]])))
