# swift-detr: `make demo` runs the main job, `make test` runs the test suite.
# Both first install what is missing (scripts/bootstrap.sh, idempotent).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: bootstrap build release test demo clean

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	swift build

release: bootstrap
	swift build -c release --product detr

test: bootstrap
	swift build --build-tests
	swift test --skip-build
	DETR_MEMORY_TESTS=1 swift test --skip-build --filter "MemoryTests|abandonedEpochsAndLongRunsStayFlat"

demo: release
	.build/release/detr --help

clean:
	rm -rf .build
