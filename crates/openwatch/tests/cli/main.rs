//! End-to-end tests of the `openwatch` binary (one test binary: linking is slow here).

mod check;
mod import;
mod pack;
mod query;
mod query_socket;
mod serve;
