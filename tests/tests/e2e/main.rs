//! End-to-end tests of the worker runtime against a real RabbitMQ node.
//!
//! Each test has a vhost of its own ([`fleet_tests::TestBed`]); the tests that restart the
//! broker have a node of their own. Run them with `make test`, which starts the test node
//! and builds the `fleet` binary the process tests start.

mod config;
mod crashes;
mod demo;
mod failures;
mod helpers;
mod metrics;
mod poison;
mod restart;
mod shutdown;
mod throughput;
mod topology;
