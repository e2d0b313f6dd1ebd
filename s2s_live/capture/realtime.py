"""What the capture process asks of the OS so that its callback meets its deadline (Linux).

Capability bits and the memory-lock permission (``doctor`` reports both), ``mlockall``, pre-touching
the ring's pages, and the realtime priority the audio callback thread runs at.
"""

from __future__ import annotations

import numpy as np


CAP_IPC_LOCK, CAP_SYS_NICE = 14, 23  #: Linux capability bits


def effective_capabilities() -> int:
    """This process's effective Linux capability mask (0 where there is no /proc/self/status)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1], 16) for l in f if l.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return 0


def memlock_allowed() -> bool:
    """Whether this process may lock all its memory (Linux: RLIMIT_MEMLOCK unlimited or
    CAP_IPC_LOCK). With a smaller limit mlockall(MCL_FUTURE) would make later allocations fail,
    so the capture process then does not lock at all."""
    import resource
    import sys

    if not sys.platform.startswith("linux"):
        return False
    if resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == resource.RLIM_INFINITY:
        return True
    return bool(effective_capabilities() >> CAP_IPC_LOCK & 1)


def _lock_memory() -> bool:
    """mlockall(MCL_CURRENT | MCL_FUTURE) where allowed: every page the capture process has or
    gets is resident, so the callback never waits for a page to be faulted in or swapped back."""
    if not memlock_allowed():
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.mlockall(1 | 2) == 0  # MCL_CURRENT | MCL_FUTURE
    except (OSError, AttributeError):
        return False


def _pretouch(buf) -> None:
    """Write every page of ``buf`` once (the same bytes back: this process is the ring's only
    writer), so the callback's first lap of the ring takes no page faults."""
    v = np.frombuffer(buf, dtype=np.uint8)
    v[::4096] = v[::4096]


def _thread_rt_priority() -> int:
    """The calling thread's SCHED_FIFO/SCHED_RR priority; 0 when it runs at normal priority."""
    import os

    try:
        if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
            return max(1, os.sched_getparam(0).sched_priority)
    except (AttributeError, OSError):  # not Linux
        pass
    return 0
