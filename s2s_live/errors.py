"""The package's exception hierarchy.

Everything s2s_live raises on purpose derives from :class:`S2SError`, so a caller (the CLI, a
host application) can catch one class and print a one-line message instead of a traceback.
Wrong arguments to functions raise the built-in ``TypeError``/``ValueError`` as usual.
"""

from __future__ import annotations


class S2SError(Exception):
    """Base class of every error s2s_live raises on purpose."""


class ConfigError(S2SError, ValueError):
    """A setting is unknown, misspelled or out of range (config file or command line)."""


class CommandError(S2SError, ValueError):
    """A control command is refused: unknown address, wrong arguments, a value out of range (the
    control port sends the text back as ``/s2s/error``; the web page and operator as a JSON error).

    Also a ValueError, as it was before it moved here: callers that catch ValueError around a
    validator keep catching it."""


class DeviceError(S2SError):
    """An audio device cannot be found, opened, or has disappeared."""


class AudioFileError(S2SError):
    """A file cannot be read as audio."""


class ModelError(S2SError):
    """A model or its card is missing, corrupt or does not match its card."""


class OSCError(S2SError):
    """An OSC socket cannot be bound or a message cannot be built."""


class LibraryError(S2SError):
    """A similarity library folder is missing, empty or inconsistent (``s2s-live similar``, ``map``)."""


class VisualsError(S2SError):
    """The visuals backend cannot be loaded or failed to generate."""
