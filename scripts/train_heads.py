#!/usr/bin/env python
"""Train the genre and emotion heads on the taggers' outputs: `python scripts/train_heads.py --data PATH [--out models]`."""
import sys

from s2s_live.train.commands import main

if __name__ == "__main__":
    sys.exit(main(["train", "heads", *sys.argv[1:]], prog="scripts/train_heads.py",
                  record=" ".join(["python", "scripts/train_heads.py", *sys.argv[1:]])))
