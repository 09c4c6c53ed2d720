# Thin wrapper over CMake so that `make`, `make test`, `make demo` and
# `make install` work. The real build is CMakeLists.txt.
BUILD ?= build/release
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

.PHONY: all test test-fast demo install clean fuzz

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j$(JOBS)

test:
	scripts/test

test-fast:
	scripts/test --fast

demo:
	scripts/demo

install: all
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

fuzz:
	CC=clang cmake -S . -B build/fuzz -DRESONA_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build/fuzz -j$(JOBS)

clean:
	rm -rf build
