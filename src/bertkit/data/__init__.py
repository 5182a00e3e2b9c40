"""Text to ids to batches: corpus readers (``corpus``: plain text and WikiExtractor files), task-file readers
(``tasks/``: TSV, CoNLL, SQuAD), sentence splitting (``sentences``), the memory-mapped token store and its
builder (``store``, ``prepare``: what ``bertkit prepare`` runs), pretraining instances, masking and batching.

Imports only ``utils``, ``config`` and ``tokenizer`` (STYLE.md §2); never the model.
"""
