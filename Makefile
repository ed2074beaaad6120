# gobdatos — the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := bin/gobdatos
PKGS    := ./...

.PHONY: run build test bench lint postgres-binaries clean

## run: build and start the portal on http://127.0.0.1:8080 with an embedded PostgreSQL (no set-up needed)
run: build postgres-binaries
	./$(BIN) dev

## build: compile the one binary into bin/gobdatos
build:
	$(GO) build -o $(BIN) ./cmd/gobdatos

## test: every test, with the race detector, against a real PostgreSQL (see `gobdatos testdb --help`)
test:
	$(GO) run ./cmd/gobdatos testdb -- $(GO) test -race -count=1 -timeout 30m $(PKGS)

## bench: the benchmarks that print the figures quoted in the README
bench: build
	$(GO) run ./cmd/gobdatos testdb -- $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m $(PKGS)

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# postgres-binaries makes sure `dev` can start its private PostgreSQL: it needs
# initdb and postgres from the machine (any version from 13 on).
postgres-binaries:
	@if [ -n "$$DATABASE_URL" ]; then exit 0; fi; \
	if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Instalando PostgreSQL (apt-get install -y postgresql) / installing PostgreSQL…"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql && exit 0; \
	fi; \
	echo ""; \
	echo "No se encontró PostgreSQL. Instale el servidor (Debian/Ubuntu: sudo apt-get install -y postgresql)"; \
	echo "o defina DATABASE_URL con la dirección de una base de datos existente."; \
	echo "PostgreSQL was not found. Install the server (Debian/Ubuntu: sudo apt-get install -y postgresql)"; \
	echo "or set DATABASE_URL to an existing database."; \
	exit 1

clean:
	rm -rf bin
