# The two commands a new machine needs: `make demo` and `make test`.
# Everything else here is a convenience around CMake presets.

PRESET ?= dev
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: deps test-deps configure build demo test fuzz bench format lint clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --with-test-tools
	@scripts/install-ui-deps.sh

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

test: test-deps build
	scripts/test.sh $(BUILD)

fuzz: test-deps
	scripts/fuzz.sh $(or $(SECONDS),60)

bench: build
	scripts/bench.sh $(BUILD)

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

lint:
	scripts/lint.sh $(BUILD)

clean:
	rm -rf build
