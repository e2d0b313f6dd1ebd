"""Stage 2, capture: audio into the process.

One concept per module, importing downward only (ring < base < portaudio, realtime < device, sources):
the shared-memory ring (ring), the interface every source has (base), PortAudio device enumeration
(portaudio), the OS settings the capture process asks for (realtime), the capture subprocess and its
reopen state machine (device), the file and synth sources (sources), the built-in music synth (synth)
and ASCIML's sound generator (sounds).

May import: the base stage (errors, processor, stats, labels, kernels) and dsp.
"""

from .ring import AudioRing
from .base import Source, SourceHealth
from .portaudio import find_input_device, list_input_devices
from .realtime import CAP_IPC_LOCK, CAP_SYS_NICE, effective_capabilities, memlock_allowed
from .device import DEVICE_TIMEOUT, REOPEN_INTERVAL, DeviceSource
from .sources import FileSource, SynthSource

__all__ = [  # the stage's public API
    "AudioRing", "Source", "SourceHealth", "find_input_device", "list_input_devices",
    "CAP_IPC_LOCK", "CAP_SYS_NICE", "effective_capabilities", "memlock_allowed",
    "DEVICE_TIMEOUT", "REOPEN_INTERVAL", "DeviceSource", "FileSource", "SynthSource",
]
