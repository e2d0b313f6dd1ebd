"""Stage 6, osc: the wire.

The one OSC encoder/decoder (codec), the receiver profiles (profiles), the UDP targets and the
broadcaster (broadcast); for commands coming in: the argument validators and the run-time target
policy (checks), the per-sender reply budget (ratelimit) and the control server (control).

May import: the base modules (errors, processor, stats, labels, kernels) and the stages below it
(dsp, capture, frames, features, inference); never mapping, config, pipeline, visuals, offline or
the app modules. Inside the package, modules import the defining submodule, never this file.
"""

from .codec import (  # noqa: F401  the stage's public API
    encode_message,
    encode_floats,
    decode_message,
    decode_packet,
)
from .profiles import (  # noqa: F401
    STRING_REFRESH,
    WEK_PORT,
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
)
from .broadcast import (  # noqa: F401
    MAX_DATAGRAM,
    MAX_TARGETS,
    Target,
    parse_target,
    OSCBroadcaster,
)
from .checks import (  # noqa: F401
    SCENES,
    check_args,
    check_range,
    check_prompt,
    check_auto,
    check_interval,
    check_scene,
    check_intensity,
    check_palette,
    check_text,
    target_networks,
    target_refusal,
)
from .ratelimit import REPLY_RATE, REPLY_BURST, ReplyBudget  # noqa: F401
from .control import ControlServer, status_json  # noqa: F401
