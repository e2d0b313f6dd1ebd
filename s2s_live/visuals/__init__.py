"""Stage 9, visuals: images generated from the music in a separate process, shown by a web viewer.

* :mod:`.state` — the small music state extracted from frame values;
* :mod:`.prompt` — prompt builder and templates (``s2s_live/data/prompts.toml``);
* :mod:`.procedural` — numba renderer of abstract audio-reactive images (default backend);
* :mod:`.diffusion` — diffusers backend (local models only, never downloads);
* :mod:`.worker` — the visuals process: job loop, atomic PNG + JSON sidecar output;
* :mod:`.web` — HTTP/WebSocket viewer (``/``) and operator page (``/control``);
* :mod:`.controller` — :class:`VisualsController`, the engine-side interface.

Importing this package does not import torch or diffusers.

May import: the stages below (base, osc for the command checkers and the scene list, config);
never pipeline users above it (offline, dataset, train, engine).
"""

from .controller import VisualsController  # noqa: F401
