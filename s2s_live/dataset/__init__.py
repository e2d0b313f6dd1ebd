"""ASCIML's dataset workflow for the timbre VAE: build a folder of one-second 16 kHz clips
(:mod:`.store`: record, add files, synthesise), look at it (:mod:`.show`: table and figures) and
listen to what a VAE makes of it (:mod:`.reconstruct`). ``s2s-live dataset ...`` is
:mod:`.commands`; training on a folder is ``s2s-live train vae --data DIR``."""

from .store import CLIP, SR, Clip, add_files, clips, find, is_dataset, open_dataset, record, synth

__all__ = ["SR", "CLIP", "Clip", "add_files", "clips", "find", "is_dataset", "open_dataset", "record", "synth"]
