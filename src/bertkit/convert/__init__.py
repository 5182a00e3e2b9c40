"""Hugging Face checkpoints both ways: the key map (keymap.py) and directory read/write (hf.py)."""

from bertkit.convert.hf import (LoadReport, checkpoint_info, load_for_finetuning, load_pretrained, save_pretrained,
                                unwrap_model, write_pretrained)

__all__ = ["load_pretrained", "load_for_finetuning", "save_pretrained", "write_pretrained", "unwrap_model",
           "checkpoint_info", "LoadReport"]
