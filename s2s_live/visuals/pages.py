"""The operator page's mapping and dataset commands: what a page may send, checked before the
engine sees it (the same checks and one-line texts as the OSC control port), and the per-page
rate. The engine runs the checked commands (s2s_live/operator.py)."""

from __future__ import annotations

from ..errors import CommandError
from ..osc.checks import check_args, check_text

#: mapper commands the operator page may send (the Wekinator names; s2s_live/mapping/wekinator.py runs them)
MAP_COMMANDS = ("outputs", "startRecording", "stopRecording", "train", "cancelTrain", "startRunning",
                "stopRunning", "deleteAllExamples", "status")
DATASET_ACTIONS = ("record", "cancel", "list", "folders")
MAX_PAGE_ARGS = 64  #: values in one map command (the mapper has at most 64 outputs)
MAX_PAGE_TEXT = 100  #: characters of a string field of a map/dataset command
PAGE_RATE = 40.0  #: map/dataset commands per second per page (token bucket refill)
PAGE_BURST = 80.0  #: map/dataset commands a page may send at once


def check_map_command(msg: dict) -> dict:
    """``{"cmd": "map", "name": N, "args": [...]}`` -> ``{"name", "args"}``: a Wekinator command
    name from :data:`MAP_COMMANDS`, at most :data:`MAX_PAGE_ARGS` numbers or short strings."""
    name = msg.get("name")
    if not isinstance(name, str) or name not in MAP_COMMANDS:
        raise CommandError(f"map name={str(name)[:40]!r} is unknown; expected one of " + ", ".join(MAP_COMMANDS))
    args = msg.get("args", [])
    if not isinstance(args, list) or len(args) > MAX_PAGE_ARGS:
        n = f" of {len(args)}" if isinstance(args, list) else ""
        raise CommandError(f"map args must be a list of at most {MAX_PAGE_ARGS} values, "
                           f"got {type(args).__name__}{n}")
    for a in args:
        if isinstance(a, bool) or not isinstance(a, (int, float, str)):
            raise CommandError(f"map args must be numbers or strings, got {type(a).__name__}")
        if isinstance(a, str):
            check_text(a, "map argument", MAX_PAGE_TEXT)
    return {"name": name, "args": args}


def check_dataset_command(msg: dict) -> dict:
    """``{"cmd": "dataset", "action": A, ...}`` -> the payload the engine runs: an action from
    :data:`DATASET_ACTIONS`, optional short ``folder``/``label`` strings and ``seconds``."""
    action = msg.get("action")
    if not isinstance(action, str) or action not in DATASET_ACTIONS:
        raise CommandError(f"dataset action={str(action)[:40]!r} is unknown; expected one of "
                           + ", ".join(DATASET_ACTIONS))
    payload = {"action": action}
    for key in ("folder", "label"):
        if msg.get(key) is not None:
            payload[key] = check_text(msg[key], f"dataset {key}", MAX_PAGE_TEXT)
    if msg.get("seconds") is not None:
        (payload["seconds"],) = check_args([msg["seconds"]], "f", "dataset seconds")
    return payload
