"""Stage 6, osc: the wire.

The OSC codec, the receiver profiles and the broadcaster (out), the control server for incoming commands (control).

May import: errors, processor, stats, config, labels and the stages below (never mapping, pipeline, visuals, offline).
"""

from .out import (  # noqa: F401  the stage's public API
    MAX_DATAGRAM,
    MAX_TARGETS,
    STRING_REFRESH,
    WEK_PORT,
    encode_message,
    encode_floats,
    decode_message,
    decode_packet,
    output_args,
    LOGISTIC,
    Profile,
    MaxProfile,
    SCProfile,
    TouchDesignerProfile,
    WEK_GENRE_SLOTS,
    WEK_INSTRUMENT_SLOTS,
    WEK_INPUTS,
    WEK_K,
    WekinatorProfile,
    PROFILES,
    make_profile,
    Target,
    parse_target,
    OSCBroadcaster,
)
