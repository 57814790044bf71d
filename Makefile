# The two commands a new machine needs: `make demo` and `make test`.
# Everything else here is a convenience around CMake presets.

PRESET ?= dev
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: deps test-deps configure build demo test fuzz bench format lint clean release package package-test

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --with-test-tools
	@scripts/install-ui-deps.sh

configure: deps
	@scripts/configure.sh $(PRESET)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

test: test-deps build
	scripts/test.sh $(BUILD)

# The hardened release build the packages come from (only the two programs).
release: deps
	@scripts/configure.sh release
	cmake --build build/release --target kartu-bahagiad kbctl -j $(JOBS)

# build/deb/kartu-bahagia_<v>_amd64.deb and kartu-bahagia-kiosk_<v>_all.deb, lintian-checked.
package: test-deps release
	scripts/build-deb.sh

# Install test in a clean Debian 12 root, then the kiosk session under cage (headless).
package-test: test-deps release
	scripts/package-test.sh

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
