"""The package version (its own module: kernels reads it while the package initialises)."""

__version__ = "0.1.0"
