# One entry point for people and CI. `make demo` and `make test` are the two commands a fresh
# Debian machine needs; both install and start RabbitMQ themselves when it is missing.

SHELL := /bin/bash
CARGO ?= cargo

# The demo uses the default node on 5672; tests and benchmarks run nodes of their own so that
# they may stop and restart them without touching anything else.
TEST_BROKER := FLEET_BROKER_NAME=fleet-test FLEET_BROKER_PORT=5682
BENCH_BROKER := FLEET_BROKER_NAME=fleet-bench FLEET_BROKER_PORT=5692

.PHONY: demo test lint bench broker broker-stop sim build schemas

## demo: RabbitMQ on loopback, the simulator, a worker, sample jobs and a summary.
demo:
	scripts/broker.sh start
	$(CARGO) run --release -p fleet -- demo

# Nodes the end-to-end tests start for themselves (name:port); `make test` stops them after.
TEST_NODES := fleet-test:5682 fleet-restart:5683 fleet-heartbeat:5684

## test: unit, integration and end-to-end tests against real RabbitMQ nodes of their own.
test:
	$(TEST_BROKER) scripts/broker.sh start
	$(CARGO) build -p fleet --bin fleet
	status=0; $(TEST_BROKER) $(CARGO) test --workspace --no-fail-fast || status=$$?; \
	for node in $(TEST_NODES); do \
	    FLEET_BROKER_NAME=$${node%:*} FLEET_BROKER_PORT=$${node#*:} scripts/broker.sh stop; \
	done; \
	exit $$status

## lint: formatting and clippy, warnings denied.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## bench: runtime throughput beside a bare lapin loop, and a 1 GiB upload through the simulator.
bench:
	$(BENCH_BROKER) scripts/broker.sh start
	$(CARGO) build --release -p fleet --bin fleet
	status=0; $(BENCH_BROKER) $(CARGO) run --release -p fleet-bench || status=$$?; \
	$(BENCH_BROKER) scripts/broker.sh stop; \
	[ $$status -eq 0 ] || exit $$status
	$(CARGO) run --release -p frameio --example upload_bench

## broker: start the default RabbitMQ node (amqp://guest:guest@127.0.0.1:5672).
broker:
	scripts/broker.sh start

## broker-stop: stop the default node started by `make broker` or `make demo`.
broker-stop:
	scripts/broker.sh stop

## sim: run the Frame.io simulator in the foreground on 127.0.0.1:8470.
sim:
	$(CARGO) run --release -p fleet -- sim

## schemas: regenerate the committed JSON Schemas of the messages after a deliberate change.
schemas:
	UPDATE_SCHEMAS=1 $(CARGO) test -p fleet-protocol --test schemas

build:
	$(CARGO) build --workspace --all-targets
