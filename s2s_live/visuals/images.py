"""Serving generated images safely: only regular files directly in the image folder, by name.

A page asks for ``/images/<name>.png``; the name is matched by :data:`IMAGE_ROUTE` (letters,
digits, ``_ . -``, at most :data:`MAX_NAME` characters) and read by :func:`read_image`, which
never follows a symlink, never opens a FIFO or a directory and never reads more than
:data:`MAX_IMAGE_BYTES`.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

MAX_NAME = 200  #: characters of an image file name
IMAGE_ROUTE = re.compile(r"^/images/([A-Za-z0-9][A-Za-z0-9_.-]{0,%d}\.png)$" % (MAX_NAME - 5))
MAX_IMAGE_BYTES = 64 << 20  #: larger files in out_dir are not served


def read_image(folder: str | Path, name: str) -> bytes | None:
    """The bytes of ``folder/name`` if it is a regular file directly in ``folder`` (a symlink,
    a FIFO, a directory, a missing or too long name: None). Never blocks, never raises."""
    if "/" in name or "\0" in name or name in (".", "..") or len(name) > MAX_NAME:
        return None
    try:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, ValueError):  # ELOOP (a symlink), ENOENT, ENAMETOOLONG, EACCES...
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_IMAGE_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(MAX_IMAGE_BYTES + 1)[:MAX_IMAGE_BYTES]
    except OSError:
        return None
    finally:
        os.close(fd)
