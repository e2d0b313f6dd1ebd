#!/usr/bin/env python
"""Train the shipped emotion model: `python scripts/train_emotion.py --data PATH [--out models]` (see docs/models.md)."""
import sys

from s2s_live.train.commands import main

if __name__ == "__main__":
    sys.exit(main(["train", "emotion", *sys.argv[1:]], prog="scripts/train_emotion.py",
                  record=" ".join(["python", "scripts/train_emotion.py", *sys.argv[1:]])))
