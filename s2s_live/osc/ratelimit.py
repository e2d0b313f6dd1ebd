"""The reply budget of the control ports: a token bucket of reply bytes per sender IP.

Every reply (pong, ack, error, status, meta) is charged to its sender's bucket, so a spoofed or
hostile sender cannot turn a control port into an amplifier: :data:`REPLY_RATE` bytes/s refill,
:data:`REPLY_BURST` bytes at once, at most :data:`MAX_SENDERS` buckets remembered.
"""

from __future__ import annotations

import time
from typing import Callable

REPLY_RATE = 16384  #: reply bytes per second per sender IP (token bucket refill)
REPLY_BURST = 32768  #: reply bytes a sender IP may get at once (bucket size: meta + status fit)
MAX_SENDERS = 4096  #: reply buckets remembered; idle (full) ones are forgotten first


class ReplyBudget:
    """Token buckets of reply bytes per sender IP: ``rate`` bytes/s, at most ``burst`` at once.

    Only the control thread uses it (no lock). At most ``max_senders`` buckets are kept; when
    full, buckets that have refilled completely (idle senders) are forgotten, then the oldest.
    """

    def __init__(self, rate: float = REPLY_RATE, burst: float = REPLY_BURST, *,
                 max_senders: int = MAX_SENDERS, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or not burst > 0:
            raise ValueError(f"rate={rate!r}, burst={burst!r} are invalid; expected positive bytes")
        self.rate, self.burst, self.max_senders, self.clock = float(rate), float(burst), int(max_senders), clock
        self._b: dict[str, list[float]] = {}  # ip -> [tokens, time of last update]

    def take(self, ip: str, n: int) -> bool:
        """Charge ``n`` bytes to ``ip``; False (nothing charged) when they do not fit now."""
        now = self.clock()
        b = self._b.get(ip)
        if b is None:
            if len(self._b) >= self.max_senders:
                self._forget(now)
            b = self._b[ip] = [self.burst, now]
        b[0] = min(self.burst, b[0] + (now - b[1]) * self.rate)
        b[1] = now
        if n > b[0]:
            return False
        b[0] -= n
        return True

    def _forget(self, now: float) -> None:
        full = [ip for ip, (tok, t) in self._b.items() if tok + (now - t) * self.rate >= self.burst]
        for ip in full:
            del self._b[ip]
        if len(self._b) >= self.max_senders:  # all busy: drop the least recently charged half
            for ip in sorted(self._b, key=lambda k: self._b[k][1])[: len(self._b) // 2]:
                del self._b[ip]
