//! Integration tests for ow-filter-pattern (one test binary).

mod api;
mod cis;
mod conformance;
mod no_panic;
