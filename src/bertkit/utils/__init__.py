"""Stdlib-and-numpy helpers shared by every layer: errors, file I/O, data paths, logging."""
