"""Stage 12, dataset: ASCIML's dataset workflow for the timbre VAE. Build a folder of one-second
16 kHz clips (:mod:`.store`: record, add files, synthesise), look at it (:mod:`.show`: table and
figures); ``s2s-live dataset ...`` is :mod:`.commands`. Training on a folder
(``s2s-live train vae --data DIR``) and listening to reconstructions
(:mod:`s2s_live.train.reconstruct`) are in the train stage above.

May import: capture (sources, ASCIML's generator), frames, offline (report figures) and below.
"""

from .store import CLIP, SR, Clip, add_files, clips, find, is_dataset, open_dataset, record, synth

__all__ = ["SR", "CLIP", "Clip", "add_files", "clips", "find", "is_dataset", "open_dataset", "record", "synth"]
