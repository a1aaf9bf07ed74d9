# Two commands for a fresh clone (see README): `make quickstart` and `make test`.
# Both create .venv and install the core and every provider package from this checkout.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned. On Linux x86-64, a plain `torch==X` from PyPI is the CUDA build (the
# torch wheel plus several GB of nvidia-* packages). On this project's machines pip's
# find-links holds the CPU wheel of 2.13.0, so the default below installs that file.
# Elsewhere, for the CPU build, name PyTorch's CPU wheel index (used for torch alone):
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
TORCH_FROM  := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
# tiktoken's encoding files: an offline copy when shared/ lies beside the clone (CI has no
# internet); a TIKTOKEN_CACHE_DIR already set wins; elsewhere tiktoken downloads them.
ifneq ($(wildcard ../shared/data/tiktoken),)
export TIKTOKEN_CACHE_DIR ?= $(abspath ../shared/data/tiktoken)
endif
PROVIDERS := $(wildcard providers/*/pyproject.toml)
EDITABLE  := -e ".[dev]" $(foreach p,$(PROVIDERS),-e $(dir $(p)))
# One worker per core (pytest-xdist): the suite is I/O- and subprocess-bound, and every
# test is isolated (its own job store, emulator port and temp folders). The Ray tests
# share one two-CPU cluster whose jobs must not run beside each other (a worker's
# session end stops the cluster's unfinished jobs), so they run in a process of their
# own, beside the rest: they mostly wait on the cluster (1.4 cores busy on average with
# both parts running; 2026-11-30: 854 s for both side by side, ~1000 s one after the
# other). Their output is printed after the main part's. Ctrl-C stops both: the root
# conftest.py gives the background pytest a live SIGINT, so its cluster is torn down.
# worksteal: an idle worker takes queued tests from a busy one, so the run does not end
# on one worker's tail of slow tests.
PYTEST_ARGS ?= -n auto --dist worksteal --durations=25

.PHONY: install quickstart test lint bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch goes through pip, which reads the machine's pip config (find-links with the CPU
# wheel here) and TORCH_INDEX. Everything else goes through uv, installed from PyPI into the
# venv: on CI's 2 cores pip took 144 s for those ~220 packages and uv 50 s (2026-11-30, fresh venvs).
# uv keeps the torch already installed (the pin is passed again so that no package can
# move it). Both byte-compile at install on purpose: with PYTHONDONTWRITEBYTECODE set (as
# on CI's machines) nothing is cached later, and every test process would compile torch.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(PROVIDERS)
	$(BIN)/pip install --quiet $(TORCH_FROM) "$(TORCH)"
	$(BIN)/pip install --quiet "uv>=0.5"
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet "$(TORCH)" $(EDITABLE) \
	  || $(BIN)/pip install --quiet "$(TORCH)" $(EDITABLE)  # uv reads no pip config: a mirror only pip knows
	touch $@

install: $(VENV)/.installed  ## install the core, every provider and the dev tools

quickstart: install  ## a real LoRA fine-tune of a tiny local model, on CPU
	$(BIN)/anytune quickstart

test: install  ## the whole test suite, as CI runs it (both parts run; either failing fails it)
	status=0; \
	$(BIN)/python -m pytest providers/ray -p no:xdist --durations=10 > $(VENV)/ray-tests.log 2>&1 & ray=$$!; \
	trap 'kill -INT $$ray 2>/dev/null; wait $$ray; exit 130' INT TERM; \
	$(BIN)/python -m pytest $(PYTEST_ARGS) --ignore=providers/ray || status=1; \
	wait $$ray || status=1; \
	echo "--- the Ray part (providers/ray), run beside the rest ---"; cat $(VENV)/ray-tests.log; \
	exit $$status

lint: install
	$(BIN)/ruff check src providers tests bench examples
	$(BIN)/mypy src

bench-smoke: install  ## every benchmark at smoke size
	$(BIN)/python bench/import_time.py --runs 5
	$(BIN)/python bench/polling.py

clean:
	rm -rf $(VENV)
