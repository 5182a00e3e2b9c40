"""Hugging Face checkpoints both ways: the key map (keymap.py) and directory read/write (hf.py)."""

from bertkit.convert.hf import LoadReport, checkpoint_info, load_pretrained, save_pretrained

__all__ = ["load_pretrained", "save_pretrained", "checkpoint_info", "LoadReport"]
