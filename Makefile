# swift-detr: `make demo` runs the main job, `make test` runs the test suite.
# Both first install what is missing (scripts/bootstrap.sh, idempotent).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
# libtorch: unpacked by the bootstrap into .libtorch/ and found by SwiftPM through pkg-config.
# To build against another libtorch 2.x, put a directory holding your own swift-detr-libtorch.pc
# first in PKG_CONFIG_PATH (README, "Building").
export PKG_CONFIG_PATH := $(if $(PKG_CONFIG_PATH),$(PKG_CONFIG_PATH):)$(CURDIR)/.libtorch/lib/pkgconfig
# TORCH=cuda: PyPI's CUDA build of torch instead of the CPU wheel (README, "Building").
export TORCH

.PHONY: bootstrap build release test test-consumer test-browser test-multinode demo format clean distclean

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	swift build

release: bootstrap
	swift build -c release --product detr

# The second fixture set (same official code, other seeds and images): the suites that read
# fixtures run once more against it (scripts/fixture-suites.sh names them). Missing: an error
# under CI, skipped with a note otherwise.
FIXTURES_B ?= ../shared/fixtures-b

test: bootstrap
	swift build --build-tests
	swift test --skip-build
	DETR_MEMORY_TESTS=1 swift test --skip-build --filter "MemoryTests|abandonedEpochsAndLongRunsStayFlat"
	@if [ -d "$(FIXTURES_B)" ]; then \
		echo "make test: the fixture suites again, against $(FIXTURES_B)"; \
		DETR_FIXTURES="$(abspath $(FIXTURES_B))" swift test --skip-build --filter "$$(scripts/fixture-suites.sh)"; \
	elif [ -n "$$CI" ]; then \
		echo "make test: second fixture set not found at $(FIXTURES_B) (set FIXTURES_B)" >&2; exit 1; \
	else \
		echo "make test: second fixture set not found at $(FIXTURES_B): skipped (set FIXTURES_B)"; \
	fi

# A package depending on this checkout, as a new user's would: `swift package fetch-libtorch`,
# build, and the README's library example against `detr predict` (scripts/test-consumer.sh).
test-consumer: bootstrap
	swift build --product detr
	scripts/test-consumer.sh

# Data-parallel training across two hosts, made as two network namespaces joined by a veth pair
# (opt-in: needs root and iproute2; MultiNodeCLITests), launched directly and by torchrun (from
# a venv with PyPI's torch, made here once: only the launcher is Python, the workers are detr).
TORCHRUN_VENV ?= .build/torchrun-venv
test-multinode: bootstrap
	swift build --build-tests
	@[ -x "$(TORCHRUN_VENV)/bin/torchrun" ] || { python3 -m venv "$(TORCHRUN_VENV)" && \
		"$(TORCHRUN_VENV)/bin/pip" install -q "torch==2.13.0+cpu" || "$(TORCHRUN_VENV)/bin/pip" install -q torch; }
	DETR_MULTINODE=1 DETR_TORCHRUN="$(abspath $(TORCHRUN_VENV))/bin/torchrun" \
		swift test --skip-build --filter MultiNodeCLITests

# The page of `detr serve` in headless Chromium (opt-in: the bootstrap does not install Chromium;
# `apt-get install chromium`, or set DETR_CHROMIUM to a Chromium or Chrome binary).
test-browser: bootstrap
	swift build --build-tests
	DETR_BROWSER_TESTS=1 swift test --skip-build --filter WebPageBrowserTests

# swift-format (shipped with the toolchain) with the repository's .swift-format (4 spaces, 120 columns).
format:
	swift-format format -i -r --parallel Sources Tests Plugins

# The bundled model: a small Salience DETR trained with `detr train` on `detr synth` shapes
# (see demo/README.md for how it was made and its held-out AP).
demo: release
	@rm -rf demo-output && mkdir -p demo-output
	.build/release/detr predict --config demo/shapes-salience.json --weights demo/shapes-salience.safetensors \
		--threshold 0.5 --save-dir demo-output --show-salience --output demo-output/detections.json demo/samples
	@echo
	@echo "Demo done: demo-output/ holds the annotated images (shapes-N.png), the salience maps"
	@echo "(shapes-N.salience.png) and demo-output/detections.json."

clean:
	rm -rf .build

# Also removes the unpacked libtorch (the downloaded wheel stays in ~/.cache/swift-detr).
distclean: clean
	rm -rf .libtorch
