# dmp: build the single AOT binary, test it on this machine and in a qemu guest.

DOTNET      ?= dotnet
CONFIG      ?= Release
PUBLISH_DIR := build/publish
# The product's sources: not the tests, and not what the build itself generates under obj/ and bin/.
SOURCES     := $(shell find . \( -path ./tests -o -path ./build -o -path ./obj -o -path ./bin -o -path ./.git \) -prune \
                 -o \( -name '*.cs' -o -name '*.csproj' -o -name 'rd.xml' \) -print) VERSION

.PHONY: all clean test unit-test vm-test bench-smoke bench demo deps

all: dmp

dmp: $(SOURCES)
	$(DOTNET) publish Dmp.csproj -c $(CONFIG) -o $(PUBLISH_DIR) -nologo -clp:NoSummary
	cp $(PUBLISH_DIR)/dmp $@.new && mv -f $@.new $@  # a rename works even while an old ./dmp runs

# Debian packages (the clients the tests drive, qemu) and the guest kernel the tests need (idempotent).
deps:
	tests/vm/deps.sh

unit-test: dmp deps
	$(DOTNET) test tests/Dmp.Tests/Dmp.Tests.csproj -c $(CONFIG) -nologo

vm-test: dmp deps
	tests/vm/run-all.sh

# A few seconds of every part of the benchmark, so that `make bench` cannot rot.
bench-smoke: dmp deps
	bench/run.sh --smoke build/bench-smoke

test: unit-test vm-test bench-smoke

# The full benchmark (about two and a half hours; run it on an otherwise idle machine): bench/results.md and .svg.
bench: dmp deps
	bench/run.sh

# The README's walkthrough in a throwaway VM, for machines whose kernel has no nbd.
demo: dmp deps
	tests/vm/guest.sh tests/vm/demo.sh

clean:
	rm -rf bin obj build dmp tests/*/bin tests/*/obj
