"""Play a known signal into JACK until terminated (a separate JACK client for the tests).

Usage: python jack_player.py SPEC, where SPEC is ``sine:FREQ:AMP``, ``silence``,
``clicks:BPM`` or ``steps:AMP1,AMP2,...:SECONDS`` (sine 1 kHz whose amplitude changes).
On SIGUSR1 it prints ``underflows N``: the callbacks PortAudio flagged as late (output
underflow: the signal JACK played has a gap or a repeat there) since it started.
"""

import signal
import sys

import numpy as np
import sounddevice as sd

SR = 48000


def make(spec: str) -> np.ndarray:
    kind, *args = spec.split(":")
    if kind == "sine":
        f, a = float(args[0]), float(args[1])
        n = int(SR * 1.0 / np.gcd(int(f), SR) * np.gcd(int(f), SR))  # 1 s holds whole cycles for int f
        t = np.arange(n) / SR
        return (a * np.sin(2 * np.pi * f * t)).astype(np.float32)
    if kind == "silence":
        return np.zeros(SR, dtype=np.float32)
    if kind == "clicks":
        bpm = float(args[0])
        period = int(round(SR * 60 / bpm))
        y = np.zeros(period * 8, dtype=np.float32)
        n = int(0.01 * SR)
        burst = 0.9 * np.exp(-np.arange(n) / (n / 5)) * np.sin(2 * np.pi * 1000 * np.arange(n) / SR)
        for k in range(8):
            y[k * period : k * period + n] = burst
        return y
    if kind == "steps":
        amps = [float(a) for a in args[0].split(",")]
        secs = float(args[1])
        t = np.arange(int(SR * secs)) / SR
        return np.concatenate([(a * np.sin(2 * np.pi * 1000 * t)).astype(np.float32) for a in amps])
    raise SystemExit(f"unknown spec {spec!r}")


def main() -> None:
    y = make(sys.argv[1])
    pos = [0]
    late = [0]

    def cb(outdata, frames, time, status):  # noqa: ARG001
        if status.output_underflow:
            late[0] += 1
        i = pos[0]
        idx = (np.arange(frames) + i) % y.shape[0]
        outdata[:, 0] = y[idx]
        pos[0] = (i + frames) % y.shape[0]

    stream = sd.OutputStream(device="system", channels=1, samplerate=SR, blocksize=256, callback=cb)
    stream.start()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
    signal.signal(signal.SIGUSR1, lambda *a: print(f"underflows {late[0]}", flush=True))
    print("ready", flush=True)
    while not stopping:
        signal.pause() if hasattr(signal, "pause") else None
    stream.stop()
    stream.close()


if __name__ == "__main__":
    main()
