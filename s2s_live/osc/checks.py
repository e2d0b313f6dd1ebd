"""Validators of control commands: one check per kind of argument, shared by every command port.

The OSC control server (:mod:`.control`), the Wekinator/mapper port (``mapping.wekinator``), the
web control page (``visuals.web``) and the operator (``operator``) refuse bad input with the same
functions and the same texts: a :class:`~s2s_live.errors.CommandError` naming the address and the
problem, which the caller sends back (``/s2s/error``, a JSON error) and counts.

* :func:`check_args` — count and types against a spec (``f`` finite number, ``i`` integer, ``s``
  printable string, ``[...]`` optional); :func:`check_range` — a range compared at float32
  precision (OSC floats are float32);
* the visuals commands (prompt, auto, interval in seconds, scene, intensity 0..2, palette -1..1,
  template text);
* the run-time target policy: :func:`target_networks` parses ``targets_allow``,
  :func:`target_refusal` says why a ``targets/add`` destination is refused.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

import numpy as np

from ..errors import CommandError, ConfigError
from ..frames import HOP_RANGE  # noqa: F401  (defined by its stage; the control port compares at float32)
from ..labels import SMOOTHING_RANGE  # noqa: F401

MAX_PROMPT = 500  #: characters of a /visuals/generate prompt
INTERVAL_RANGE = (1.0, 3600.0)  #: seconds between automatic images
INTENSITY_RANGE = (0.0, 2.0)  #: WebGL viewer intensity
PALETTE_RANGE = (-1.0, 1.0)  #: WebGL viewer palette bias
MAX_TEMPLATE = 2000  #: characters of a prompt template or negative prompt (web control page)


def check_args(args: list, spec: str, address: str) -> list:
    """Check an argument list against ``spec`` and return it converted.

    ``spec`` has one char per argument: ``f`` a finite number (int or float), ``i`` an integer
    (a float with an integral value is accepted, as Pd and Max send floats), ``s`` a string;
    arguments in ``[...]`` are optional. Raises CommandError naming the address and problem.
    """
    req = spec.split("[")[0]
    opt = spec[len(req):].strip("[]")
    if not len(req) <= len(args) <= len(req) + len(opt):
        want = f"{len(req)}" + (f"..{len(req) + len(opt)}" if opt else "")
        raise CommandError(f"{address} takes {want} argument(s) ({spec or 'none'}), got {len(args)}")
    out: list = []
    for k, (t, a) in enumerate(zip(req + opt, args)):
        if t == "f":
            if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a):
                raise CommandError(f"{address}: argument {k + 1} must be a finite number, got {a!r}")
            a = float(a)
        elif t == "i":
            if isinstance(a, float) and math.isfinite(a) and a.is_integer():
                a = int(a)
            if isinstance(a, bool) or not isinstance(a, int):
                raise CommandError(f"{address}: argument {k + 1} must be an integer, got {a!r}")
        elif t == "s":
            if not isinstance(a, str):
                raise CommandError(f"{address}: argument {k + 1} must be a string, got {a!r}")
            if not a.isprintable():
                raise CommandError(f"{address}: argument {k + 1} contains control characters")
        out.append(a)
    return out


def check_range(name: str, v: float, rng: tuple[float, float], unit: str = "") -> float:
    """``v`` if it lies in ``rng``; an endpoint if ``v`` is that endpoint at float32 precision.

    OSC floats are float32: ``/s2s/hop f 0.01`` arrives as 0.0099999998 and ``0.99`` as
    0.99000001, so the comparison is made in float32 and such a value is returned as the exact
    endpoint (the setters behind it check the documented range in float64).
    """
    lo, hi = rng
    if lo <= v <= hi:
        return v
    if isinstance(v, float) and abs(v) < 3e38 and np.float32(lo) <= np.float32(v) <= np.float32(hi):
        return type(v)(lo if v < lo else hi)
    raise CommandError(f"{name}={v!r} is out of range; expected {lo}..{hi}{unit}")


# -- visuals commands: one validation shared by OSC and the web control page ----------------
def check_prompt(args: list, address: str = "visuals/generate") -> str | None:
    """``[s]``: an optional printable prompt of at most :data:`MAX_PROMPT` characters;
    None when absent or blank (the prompt is then built from the music)."""
    a = check_args(args, "[s]", address)
    prompt = a[0] if a and a[0].strip() else None
    if prompt is not None and len(prompt) > MAX_PROMPT:
        raise CommandError(f"prompt is {len(prompt)} characters long; at most {MAX_PROMPT}")
    return prompt


def check_auto(args: list, address: str = "visuals/auto") -> int:
    """``i``: 0 (off) or 1 (on)."""
    (on,) = check_args(args, "i", address)
    return int(check_range("auto", on, (0, 1), " (0 off, 1 on)"))


def check_interval(args: list, address: str = "visuals/interval") -> float:
    """``f``: seconds between automatic images in :data:`INTERVAL_RANGE`."""
    (sec,) = check_args(args, "f", address)
    return check_range("interval", sec, INTERVAL_RANGE, " seconds")


#: Scene families of the WebGL viewer (``visuals/static/scenes.js`` has one fragment shader each);
#: defined here because ``/s2s/visuals/scene`` accepts exactly these.
SCENES = ("flow", "tunnel", "kaleido", "particles", "reaction", "grid")


def check_scene(args: list, address: str = "visuals/scene") -> str:
    """``s``: a scene family of the WebGL viewer (:data:`SCENES`) or ``auto``."""
    (name,) = check_args(args, "s", address)
    if name != "auto" and name not in SCENES:
        raise CommandError(f"scene={name[:40]!r} is unknown; expected auto, " + ", ".join(SCENES))
    return name


def check_intensity(args: list, address: str = "visuals/intensity") -> float:
    """``f``: viewer intensity in :data:`INTENSITY_RANGE` (0 still, 1 default, 2 wild)."""
    (v,) = check_args(args, "f", address)
    return check_range("intensity", v, INTENSITY_RANGE)


def check_palette(args: list, address: str = "visuals/palette") -> float:
    """``f``: viewer palette bias in :data:`PALETTE_RANGE` (-1 cooler .. 1 warmer)."""
    (v,) = check_args(args, "f", address)
    return check_range("palette", v, PALETTE_RANGE)


def check_text(value: Any, name: str, limit: int = MAX_TEMPLATE) -> str:
    """A printable string of at most ``limit`` characters (template, negative prompt)."""
    (v,) = check_args([value], "s", name)
    if len(v) > limit:
        raise CommandError(f"{name} is {len(v)} characters long; at most {limit}")
    return v


# -- run-time target policy ---------------------------------------------------------------------
def target_networks(entries: Any) -> tuple:
    """Parse ``targets_allow`` (the one place it is validated): a tuple of ``ipaddress`` networks.

    Each entry is an IPv4/IPv6 address or a CIDR network (host bits may be set); IPv4-mapped
    IPv6 forms (``::ffff:10.0.0.5``) become their IPv4 address. The unspecified addresses
    (0.0.0.0, ::) and networks containing them are refused: they mean "this host, any interface",
    never a destination. Raises ConfigError naming the entry.
    """
    if entries is None:
        return ()
    expected = 'a list of IP addresses or CIDR networks, e.g. ["192.168.1.20", "10.0.0.0/24"]'
    if not isinstance(entries, (list, tuple)):
        raise ConfigError(f"targets_allow={entries!r} is invalid; expected {expected}")
    nets = []
    for e in entries:
        if not isinstance(e, str):
            raise ConfigError(f"targets_allow entry {e!r} is invalid; expected {expected}")
        try:
            net = ipaddress.ip_network(e.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"targets_allow entry {e!r} is invalid; expected {expected}") from None
        if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.network_address.ipv4_mapped is not None:
            net = ipaddress.ip_network(f"{net.network_address.ipv4_mapped}/{net.prefixlen - 96}", strict=False)
        if net.network_address.is_unspecified:
            raise ConfigError(f"targets_allow entry {e!r} is invalid: it contains the unspecified address "
                              f"{net.network_address} (any interface, not a destination); expected {expected}")
        nets.append(net)
    return tuple(nets)


def _is_broadcast(a, nets) -> bool:
    if a == ipaddress.IPv4Address("255.255.255.255"):
        return True
    return any(a.version == n.version and n.prefixlen < n.max_prefixlen - 1 and a == n.broadcast_address
               for n in nets if n.version == 4)


def target_refusal(ip: str, allow: tuple = ()) -> str | None:
    """Why a run-time target ``ip`` (a literal address) is refused, or None when it may be added.

    Loopback is always allowed. Anything else must lie in one of the ``allow`` networks
    (:func:`target_networks`); a broadcast address (255.255.255.255, or the
    broadcast address of a listed network) only when listed as a single address; a multicast
    address only when listed itself or inside a listed multicast network. The unspecified
    address (0.0.0.0, ::) never. IPv4-mapped IPv6 (``::ffff:a.b.c.d``) is judged as IPv4.
    """
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    if a.is_unspecified:
        return f"host={ip!r} is the unspecified address (any interface), never a destination"
    if a.is_loopback:
        return None
    special = "multicast" if a.is_multicast else "broadcast" if _is_broadcast(a, allow) else ""
    for n in allow:
        if a.version != n.version or a not in n:
            continue
        if not special or n.num_addresses == 1 or (special == "multicast" and n.is_multicast):
            return None
    listed = ", ".join(str(n) for n in allow) or "none"
    kind = f" ({special}: only when listed itself)" if special else ""
    return (f"host={ip!r}{kind} is not an allowed run-time target; expected loopback (127.0.0.0/8, ::1, "
            f"localhost) or an address in targets_allow / --allow-target (now: {listed})")
