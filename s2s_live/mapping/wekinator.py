"""Wekinator's control messages for the mapper, on a port of their own and under ``/s2s/map``.

:class:`WekinatorServer` listens on ``Config.mapper_port`` (default 6448, Wekinator's own port,
on ``control_host``: loopback unless configured) so that a patch that drives Wekinator drives
s2s_live's mapper (:mod:`s2s_live.mapping.processor`) unchanged. It is the control server
(:class:`~s2s_live.osc.control.ControlServer`) with another address table: the same validation,
sender allowlist, datagram limits, counters and per-sender reply budget; refused input is
counted and answered with ``<prefix>/error s s`` like every control command. Accepted commands
are not acknowledged on this port (Wekinator never answers them); ``/wek/inputs`` from a
feature extractor is accepted and counted (``wek_inputs``) but not used: the mapper reads the
engine's own outputs.

The same commands exist on the control port as ``<prefix>/map/<command>`` (see
:func:`map_handlers`), acknowledged with ``<prefix>/ack``, plus ``map/status`` (reply
``<prefix>/map/status s`` JSON), ``map/save s``, ``map/load s`` and ``map/algorithm i s [i]``.
The addresses are documented in docs/osc.md and docs/mapping.md.
"""

from __future__ import annotations

import json
from typing import Callable

from ..errors import CommandError
from ..osc.checks import check_args
from ..osc.control import ControlServer
from .specs import MAX_OUTPUTS

#: Wekinator's control address prefix
WEK_CONTROL = "/wekinator/control"
STATUS_MAX = 7900  #: characters of the /map/status JSON (one datagram)


def _mapper(engine):
    m = getattr(engine, "mapper", None)
    if m is None:
        raise CommandError("the mapper is off; start s2s-live with --mapper (or mapper = true in the config)")
    return m


def _ints(args: list, address: str) -> list[int]:
    if len(args) > MAX_OUTPUTS:
        raise CommandError(f"{address} takes at most {MAX_OUTPUTS} model indices, got {len(args)}")
    return check_args(args, "i" * len(args), address)


def _strings(args: list, address: str) -> list[str]:
    if not 1 <= len(args) <= 1024:
        raise CommandError(f"{address} takes 1..1024 names, got {len(args)}")
    return check_args(args, "s" * len(args), address)


def status_text(status: dict, limit: int = STATUS_MAX) -> str:
    """The mapper status as JSON of at most ``limit`` characters (per-output detail and the
    input list are shortened first)."""
    text = json.dumps(status)
    if len(text) <= limit:
        return text
    s = dict(status)
    s["outputs"] = [{"name": o["name"][:16], "examples": o["examples"]} for o in status["outputs"]]
    s["inputs"] = status["inputs"][:8]
    s["truncated"] = ["outputs", "inputs"]
    s["error"] = str(s.get("error", ""))[:200]
    return json.dumps(s)[:limit] if len(json.dumps(s)) > limit else json.dumps(s)


def commands(engine) -> dict[str, Callable[[list, str], list]]:
    """Command name -> ``fn(args, address)`` returning the ack arguments (a list of values).

    One implementation for both ports: the Wekinator names (``startRecording``...) and the
    s2s-only ones (``status`` is served by the callers, it needs a reply)."""
    def m():
        return _mapper(engine)

    def outputs(a, where):
        if not 1 <= len(a) <= MAX_OUTPUTS:
            raise CommandError(f"{where} takes 1..{MAX_OUTPUTS} floats (one per output), got {len(a)}")
        vals = check_args(a, "f" * len(a), where)
        m().set_values(vals)
        return vals

    def flag(fn, *fa):
        def h(a, where):
            check_args(a, "", where)
            fn()(*fa)
            return []
        return h

    def enable(what, on):
        def h(a, where):
            idx = _ints(a, where)
            m().enable(what, idx, on)
            return idx
        return h

    def set_inputs(a, where):
        names = _strings(a, where)
        mp = m()
        if names == list(mp.input_names) or len(names) == mp.n_in and not set(names) <= _declared(engine):
            return []  # Wekinator semantics (names of the current inputs): nothing to change
        mp.set_inputs(names)
        return names

    def set_output_names(a, where):
        names = _strings(a, where)
        if len(names) > MAX_OUTPUTS:
            raise CommandError(f"{where} takes at most {MAX_OUTPUTS} names, got {len(names)}")
        m().rename_outputs(names)
        return names

    def save(a, where):
        (name,) = check_args(a, "s", where)
        m().save(name)
        return [name]

    def load(a, where):
        (name,) = check_args(a, "s", where)
        m().load(name)
        return [name]

    def algorithm(a, where):
        v = check_args(a, "is[i]", where)
        m().set_algorithm(v[0], v[1], v[2] if len(v) > 2 else None)
        return v

    def train(a, where):
        check_args(a, "", where)
        m().train()
        return []

    return {
        "outputs": outputs,
        "startRecording": flag(lambda: m().set_recording, True),
        "stopRecording": flag(lambda: m().set_recording, False),
        "train": train,
        "cancelTrain": flag(lambda: m().cancel_train),
        "startRunning": flag(lambda: m().set_running, True),
        "stopRunning": flag(lambda: m().set_running, False),
        "deleteAllExamples": flag(lambda: m().delete_examples),
        "setInputNames": set_inputs,
        "setOutputNames": set_output_names,
        "enableModelRunning": enable("running", True),
        "disableModelRunning": enable("running", False),
        "enableModelRecording": enable("recording", True),
        "disableModelRecording": enable("recording", False),
        "save": save,
        "load": load,
        "algorithm": algorithm,
    }


def _declared(engine) -> set[str]:
    pipe = getattr(engine, "pipeline", None)
    return {o.name for o in pipe.outputs()} if pipe is not None else set()


S2S_ONLY = ("save", "load", "algorithm")


def map_handlers(server: ControlServer) -> dict[str, Callable[[tuple, list], None]]:
    """``<prefix>/map/<command>`` handlers for the control server, each acknowledged."""
    p = server.prefix
    table = commands(server.engine)

    def wrap(name, fn):
        def h(addr, args):
            vals = fn(args, f"map/{name}")
            tags = "".join("f" if isinstance(v, float) else "i" if isinstance(v, int) else "s" for v in vals)
            server.ack(addr, f"map/{name}", tags, vals)
        return h

    handlers = {f"{p}/map/{name}": wrap(name, fn) for name, fn in table.items()}

    def status(addr, args):
        check_args(args, "", "map/status")
        server.reply(addr, f"{p}/map/status", "s", [status_text(_mapper(server.engine).status())])

    handlers[f"{p}/map/status"] = status
    return handlers


class WekinatorServer(ControlServer):
    """Wekinator's ``/wekinator/control/*`` on its own UDP port (default 6448), in its own thread.

    Parameters as :class:`~s2s_live.osc.control.ControlServer` (``host``, ``port``, ``allow``);
    counters add ``wek_inputs`` (``/wek/inputs`` datagrams, accepted and ignored).
    """

    def __init__(self, engine, *, host: str = "127.0.0.1", port: int = 6448, allow=None) -> None:
        super().__init__(engine, host=host, port=port, allow=allow, wek_port=0)
        self.counters["wek_inputs"] = 0
        table = commands(engine)
        self.handlers = {f"{WEK_CONTROL}/{name}": self._quiet(name, fn)
                         for name, fn in table.items() if name not in S2S_ONLY}
        self.handlers["/wek/inputs"] = self._wek_inputs

    @staticmethod
    def _bind(host, port, what, flag):
        # the control server's binding, with this port's name and flag in the "port in use" error
        return ControlServer._bind(host, port, "Wekinator control", "--mapper-port")

    def _quiet(self, name, fn):
        def h(addr, args):
            fn(args, f"{WEK_CONTROL}/{name}")
        return h

    def _wek_inputs(self, addr, args):
        self.counters["wek_inputs"] += 1

    def dispatch(self, address, args, addr):
        if address not in self.handlers:
            return address, (f"unknown Wekinator control address; expected {WEK_CONTROL}/startRecording, "
                             f"/train, /startRunning, /outputs ... (docs/mapping.md)")
        return super().dispatch(address, args, addr)
