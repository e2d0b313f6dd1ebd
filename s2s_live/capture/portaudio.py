"""PortAudio device enumeration and selection (through sounddevice, any host API, JACK included).

:func:`list_input_devices` lists the input-capable devices; :func:`find_input_device` resolves a
device by index or name substring; :func:`_validate_device` checks a samplerate (Hz) and a
0-based channel selection against one device, in the process that opens it.
"""

from __future__ import annotations

from ..errors import DeviceError


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # libportaudio missing
        raise DeviceError(f"PortAudio is not available ({exc}); install libportaudio2") from exc
    return sd


def list_input_devices() -> list[dict]:
    """Input-capable PortAudio devices: index, name, host API, channels, default rate."""
    sd = _sd()
    hostapis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        if d["max_input_channels"] > 0:
            out.append(
                {
                    "index": i,
                    "name": d["name"],
                    "hostapi": hostapis[d["hostapi"]]["name"],
                    "channels": d["max_input_channels"],
                    "samplerate": d["default_samplerate"],
                }
            )
    return out


def find_input_device(spec: int | str | None) -> dict:
    """Resolve a device by index or case-insensitive name substring.

    An exact name match wins; otherwise exactly one device must contain the substring.
    Raises DeviceError naming the candidates when the spec is unknown or ambiguous.
    """
    devices = list_input_devices()
    listing = "; ".join(f"[{d['index']}] {d['name']}" for d in devices) or "none"
    if not devices:
        raise DeviceError("no audio input devices found (is a sound card or JACK server running?)")
    if spec is None or spec == "":
        sd = _sd()
        try:
            idx = sd.default.device[0]
        except Exception:  # noqa: BLE001 - PortAudio may have no default
            idx = -1
        for d in devices:
            if d["index"] == idx:
                return d
        return devices[0]
    if isinstance(spec, str) and spec.strip().lstrip("-").isdigit():
        spec = int(spec)
    if isinstance(spec, int):
        for d in devices:
            if d["index"] == spec:
                return d
        raise DeviceError(f"no input device with index {spec}; input devices: {listing}")
    key = str(spec).lower()
    exact = [d for d in devices if d["name"].lower() == key]
    if len(exact) == 1:
        return exact[0]
    matches = [d for d in devices if key in d["name"].lower()]
    if not matches:
        raise DeviceError(f"no input device matches {spec!r}; input devices: {listing}")
    if len(matches) > 1:
        cands = "; ".join(f"[{d['index']}] {d['name']}" for d in matches)
        raise DeviceError(f"device name {spec!r} is ambiguous; candidates: {cands}")
    return matches[0]


def _validate_device(spec, samplerate, channels) -> tuple[dict, int, list[int]]:
    """Find the device and check rate/channels; DeviceError with the reason (runs where
    PortAudio is initialised: the capture process)."""
    info = find_input_device(spec)
    sd = _sd()
    sr = int(samplerate or info["samplerate"])
    n_dev = info["channels"]
    sel = list(range(n_dev)) if channels is None else list(channels)
    if not sel or any((not isinstance(c, int)) or c < 0 or c >= n_dev for c in sel):
        raise DeviceError(
            f"channels={channels!r} not valid for {info['name']!r}: it has {n_dev} input "
            f"channel(s), numbered 0..{n_dev - 1}"
        )
    try:
        sd.check_input_settings(device=info["index"], channels=max(sel) + 1, samplerate=sr, dtype="float32")
    except Exception as exc:  # sounddevice raises PortAudioError / ValueError
        raise DeviceError(
            f"device {info['name']!r} does not support samplerate={sr} Hz with {max(sel) + 1} channel(s) "
            f"({exc}); its default rate is {info['samplerate']:.0f} Hz"
        ) from None
    return info, sr, sel
