"""Stage 2, capture: audio into the process.

The shared-memory ring, device enumeration, the capture subprocess and its reopen state machine (device),
the file and synth sources, the built-in music synth (synth) and ASCIML's sound generator (sounds).

May import: errors, processor, stats, config, labels, dsp.
"""

from .device import (  # noqa: F401  the stage's public API
    DEVICE_TIMEOUT,
    REOPEN_INTERVAL,
    AudioRing,
    SourceHealth,
    Source,
    list_input_devices,
    find_input_device,
    CAP_IPC_LOCK,
    CAP_SYS_NICE,
    effective_capabilities,
    memlock_allowed,
    DeviceSource,
    FileSource,
    SynthSource,
    SourceFactory,
)
