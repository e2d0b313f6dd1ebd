"""Fixtures that start real components: a JACK dummy server, known-signal players, receivers."""

from __future__ import annotations

import os
import subprocess

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as s2s_live does; before numpy is imported below

import pytest

from helpers import CI, JackPlayer, JackServer, OSCRecorder, have, jack_running, reinit_portaudio, require

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".numba_cache"))


@pytest.fixture(scope="session")
def jack_server():
    """A JACK server with the dummy driver at 48 kHz / 256 frames, for the whole session."""
    require(have("jackd") and have("jack_lsp"), "jackd2 is not installed (apt-get install jackd2)")
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        require(False, f"PortAudio missing: {exc}")
    server = None
    if not jack_running():
        server = JackServer()
        server.start()
    reinit_portaudio()
    yield server
    import sounddevice as sd

    sd._terminate()  # close PortAudio before jackd goes away (pa_jack asserts otherwise)
    if server is not None:
        server.stop()


@pytest.fixture
def jack_play(jack_server):
    """Start players: ``p = jack_play("sine:1000:0.5")``; stopped after the test."""
    players = []

    def start(spec: str) -> JackPlayer:
        p = JackPlayer(spec)
        players.append(p)
        return p

    yield start
    for p in players:
        p.stop()


@pytest.fixture
def osc_rx():
    """A python-osc UDP receiver on a free loopback port."""
    r = OSCRecorder()
    yield r
    r.close()
