"""The one training loop (loop.py) shared by pretraining and fine-tuning, with its optimizer and schedule
(optim.py), checkpoints (checkpoint.py), logs and plots (metrics.py) and process groups (dist.py).

An objective plugs in through ``loss_and_metrics(model, batch)`` (STYLE.md §3.6); see :class:`loop.Trainer`.
"""
