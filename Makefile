# dmp: build the single AOT binary, test it on this machine and in a qemu guest.

DOTNET      ?= dotnet
CONFIG      ?= Release
PUBLISH_DIR := build/publish
# The product's sources: not the tests, and not what the build itself generates under obj/ and bin/.
SOURCES     := $(shell find . \( -path ./tests -o -path ./build -o -path ./obj -o -path ./bin -o -path ./.git \) -prune \
                 -o \( -name '*.cs' -o -name '*.csproj' -o -name 'rd.xml' \) -print)

.PHONY: all clean test unit-test vm-test demo deps

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

test: unit-test vm-test

# The README's walkthrough in a throwaway VM, for machines whose kernel has no nbd.
demo: dmp deps
	tests/vm/guest.sh tests/vm/demo.sh

clean:
	rm -rf bin obj build dmp tests/*/bin tests/*/obj
