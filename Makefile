# fleetwatch development commands. `make test` is what CI runs.
GO      ?= go
BIN     := bin
PKGS    := ./...

.PHONY: build demo test vet lint bench clean kafka-up kafka-down pg-up pg-down connect-up connect-down

build:
	$(GO) build -o $(BIN)/fleetwatch ./cmd/tui
	$(GO) build -o $(BIN)/fleetsim ./cmd/sim

## demo: the one-command demo (embedded broker + simulator + live screen)
demo: build
	./$(BIN)/fleetwatch --demo

## test: vet, then every test (unit, embedded-broker end to end, kcat, tmux, ssh), then short fuzz runs of the decoders
## (one -fuzz pattern may match one fuzzer only, hence the anchors). The fuzzers run a count of
## inputs, not a time: a time-limited run can fail with a bare "context deadline exceeded" from a
## race in Go 1.26's fuzz coordinator (golang/go#75804, fixed in Go 1.27).
## FLEETWATCH_TEST_KAFKA=host:port adds the tests against a running real Kafka (make kafka-up);
## FLEETWATCH_TEST_FAULTS=1 adds the broker fault tests, which start private Kafka clusters of their own;
## FLEETWATCH_TEST_PYTHON=1 adds the Python client tests (a private Kafka 3.9.1, and the clients
## installed into .cache/pyenv by scripts/python-clients.sh).
test: build vet
	FLEETWATCH_TEST_FAULTS= FLEETWATCH_TEST_PYTHON= $(GO) test -count=1 -timeout 15m $(PKGS)
	$(if $(FLEETWATCH_TEST_FAULTS),$(GO) test -count=1 -timeout 10m -v -run '^TestFault' ./internal/kafka)
	$(if $(FLEETWATCH_TEST_FAULTS),$(GO) test -count=1 -timeout 5m -v -run '^TestRecordFault' ./internal/cli)
	$(if $(FLEETWATCH_TEST_PYTHON),scripts/python-clients.sh)
	$(if $(FLEETWATCH_TEST_PYTHON),$(GO) test -count=1 -timeout 5m -v -run '^TestPythonClients$$' ./internal/cli)
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 100000x ./internal/codec
	$(GO) test -run '^$$' -fuzz '^FuzzGTFSRT$$' -fuzztime 40000x ./internal/codec
	$(GO) test -run '^$$' -fuzz '^FuzzAvro$$' -fuzztime 40000x ./internal/codec
	$(GO) test -run '^$$' -fuzz '^FuzzApply$$' -fuzztime 40000x ./internal/model
	$(GO) test -run '^$$' -bench 'RenderFrameFleet/vehicles=10000$$|DecodeVehicle$$' -benchtime 1x ./internal/view ./internal/codec

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

## lint: staticcheck (installed by .ci/run; `go install honnef.co/go/tools/cmd/staticcheck@latest`)
lint:
	staticcheck $(PKGS)

## bench: the Go benchmarks, then the side-by-side figures against real Kafka and kcat
## (with make kafka-up running) behind BENCHMARKS.md
bench:
	scripts/bench.sh

clean:
	rm -rf $(BIN)

## kafka-up / kafka-down: a real Apache Kafka (KRaft) on 127.0.0.1:9092 (KAFKA_NODES=3: 9092-9094),
## fetched from Maven Central into .cache/kafka (KAFKA_VERSION, default 4.3.0)
kafka-up:
	scripts/kafka-local.sh up

kafka-down:
	scripts/kafka-local.sh down

## pg-up / pg-down: a private PostgreSQL 15 on 127.0.0.1:5432 (user fleet, password fleet, database fleet),
## data kept under .cache/pg (PG_PORT, PG_RUN); FLEETWATCH_TEST_DB=postgres://fleet:fleet@127.0.0.1:5432/fleet?sslmode=disable
## adds the tests against it
pg-up:
	scripts/pg-local.sh up

pg-down:
	scripts/pg-local.sh down

## connect-up / connect-down: Apache Kafka Connect (standalone, REST on 127.0.0.1:8083) with the Debezium
## PostgreSQL source, capturing public.stations of database cta (created, and seeded with the demo network's
## stations when empty, by fleetsim stations) into topic pg.public.stations; needs kafka-up and pg-up.
## Jars from Maven Central into .cache/connect. FLEETWATCH_TEST_CONNECT=http://127.0.0.1:8083 adds the test against it
connect-up:
	scripts/connect-local.sh up

connect-down:
	scripts/connect-local.sh down
