# dmp: build the single AOT binary, test it on this machine and in a qemu guest.

DOTNET      ?= dotnet
CONFIG      ?= Release
PUBLISH_DIR := build/publish
# The product's sources: not the tests, and not what the build itself generates under obj/ and bin/.
SOURCES     := $(shell find . \( -path ./tests -o -path ./build -o -path ./obj -o -path ./bin -o -path ./.git \) -prune \
                 -o \( -name '*.cs' -o -name '*.csproj' -o -name 'rd.xml' \) -print) VERSION

.PHONY: all clean test unit-test vm-test bench-smoke bench demo deps install uninstall deb fuzz fuzz-test

all: dmp

dmp: $(SOURCES)
	$(DOTNET) publish Dmp.csproj -c $(CONFIG) -o $(PUBLISH_DIR) -nologo -clp:NoSummary
	cp $(PUBLISH_DIR)/dmp $@.new && mv -f $@.new $@  # a rename works even while an old ./dmp runs

# Debian packages (the clients the tests drive, qemu) and the guest kernel the tests need (idempotent).
deps:
	tests/vm/deps.sh

unit-test: dmp deps
	$(DOTNET) test tests/Dmp.Tests/Dmp.Tests.csproj -c $(CONFIG) -nologo

vm-test: dmp deb deps
	tests/vm/run-all.sh

# Install (FHS): /usr/local by default, as for anything not from a package; make deb installs to /usr.
VERSION     := $(shell cat VERSION)
PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
# Written by other parts of the work and installed when they are there: the unit and the example dmptab.
UNIT        := $(wildcard contrib/systemd/dmp.service)
DMPTAB      := $(wildcard contrib/dmptab)

build/dmp.8.gz: man/dmp.8
	mkdir -p build && gzip -9n < $< > $@.new && mv -f $@.new $@

# The unit names the binary by its installed path: /usr/sbin/dmp in the source, SBINDIR here. The example
# dmptab is an admin's file: an existing one is left as it is.
install: dmp build/dmp.8.gz
	install -D -m 0755 dmp $(DESTDIR)$(SBINDIR)/dmp
	install -D -m 0644 build/dmp.8.gz $(DESTDIR)$(MANDIR)/man8/dmp.8.gz
	install -D -m 0644 contrib/completion/dmp.bash $(DESTDIR)$(BASHCOMPDIR)/dmp
	install -D -m 0644 contrib/completion/_dmp $(DESTDIR)$(ZSHCOMPDIR)/_dmp
	$(if $(UNIT),install -d $(DESTDIR)$(UNITDIR) && sed 's|/usr/sbin/dmp|$(SBINDIR)/dmp|g' $(UNIT) > $(DESTDIR)$(UNITDIR)/dmp.service && chmod 0644 $(DESTDIR)$(UNITDIR)/dmp.service)
	$(if $(DMPTAB),[ -e $(DESTDIR)$(SYSCONFDIR)/dmp/dmptab ] || install -D -m 0644 $(DMPTAB) $(DESTDIR)$(SYSCONFDIR)/dmp/dmptab)

# Keeps SYSCONFDIR/dmp/dmptab, the admin's configuration (as dpkg -r does; dpkg --purge removes it).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/dmp $(DESTDIR)$(MANDIR)/man8/dmp.8.gz $(DESTDIR)$(BASHCOMPDIR)/dmp \
	      $(DESTDIR)$(ZSHCOMPDIR)/_dmp $(DESTDIR)$(UNITDIR)/dmp.service

# A Debian package of what make install lays out under /usr (packaging/: the control data and maintainer scripts).
deb: build/dmp_$(VERSION)_amd64.deb

build/dmp_$(VERSION)_amd64.deb: dmp build/dmp.8.gz $(wildcard packaging/* packaging/debian/*) $(UNIT) $(DMPTAB) contrib/completion/dmp.bash contrib/completion/_dmp
	packaging/build-deb.sh $(VERSION) $@

# A few seconds of every part of the benchmark, so that `make bench` cannot rot.
bench-smoke: dmp deps
	bench/run.sh --smoke build/bench-smoke

# Coverage-guided fuzzing of every parser (tests/fuzz/): SharpFuzz instruments a JIT build of dmp.dll, afl-fuzz runs
# each target for FUZZ_SECONDS and the executions, coverage, crashes and hangs of each are printed; with
# FUZZ_RESULTS=tests/fuzz/RESULTS.md the run is recorded there. Installs afl++ and the SharpFuzz tool if missing.
FUZZ_SECONDS ?= 60
FUZZ_RESULTS ?=
fuzz:
	tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_RESULTS)

# Every corpus file and regression input replayed through its target, then each target a few seconds under afl-fuzz.
fuzz-test:
	tests/fuzz/run.sh replay
	tests/fuzz/run.sh fuzz 5

test: unit-test fuzz-test vm-test bench-smoke

# The full benchmark (about two and a half hours; run it on an otherwise idle machine): bench/results.md and .svg.
bench: dmp deps
	bench/run.sh

# The README's walkthrough in a throwaway VM, for machines whose kernel has no nbd.
demo: dmp deps
	tests/vm/guest.sh tests/vm/demo.sh

clean:
	rm -rf bin obj build dmp tests/*/bin tests/*/obj tests/fuzz/*/bin tests/fuzz/*/obj
