# The two commands of README.md: `make demo` and `make test`. Both prepare a
# fresh Debian machine first (scripts/setup.sh: system packages, Go modules).

GO      ?= go
BIN     := bin
CMDS    := ./cloud/cmd/hub ./edge-agent/cmd/edge-agent ./kiosk/cmd/kiosk ./deploy/demo

.PHONY: demo test setup build vet test-short screenshots bench clean demo-clean deb

setup:
	@scripts/setup.sh

build: setup
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(CMDS)

## demo: the whole system on embedded defaults (hub, dashboard, stations, kiosk window if DISPLAY);
## DEMO_FLAGS passes flags to bin/demo, e.g. DEMO_FLAGS="-http 127.0.0.1:9090 -headless"
demo: build
	$(BIN)/demo -bin $(BIN) $(DEMO_FLAGS)

## test: vet and every test, including the end-to-end tests on the embedded broker and Mosquitto
test: setup
	@scripts/services.sh
	$(GO) vet ./...
	VETNET_REQUIRE_MOSQUITTO=1 VETNET_REQUIRE_POSTGRES=1 $(GO) test -count=1 -timeout 30m ./...

## test-short: the fast tests only
test-short:
	$(GO) test -short -count=1 ./...

## screenshots: regenerate docs/kiosk (kiosk under Xvfb) and docs/dashboard (headless Chromium)
screenshots: build
	scripts/screenshots.sh

## bench: the benchmarks recorded in docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## deb: Debian packages vetnet-agent, vetnet-hub (amd64, arm64) and vetnet-kiosk (this machine's
## architecture: it needs cgo) into dist/, with nfpm; ARCHES="amd64" or PACKAGES="agent hub" narrow it
deb:
	scripts/deb.sh

demo-clean:
	rm -rf .demo

clean: demo-clean
	rm -rf $(BIN) dist
