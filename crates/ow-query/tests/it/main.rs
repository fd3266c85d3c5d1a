//! Integration tests of the engine (one test binary: linking DataFusion is slow).
//!
//! - `conformance`: the data-driven suite in `tests/conformance/*.test` (format in its README);
//! - `seed`: the three queries that started the project on `../shared/data`, checked against
//!   an independent JSON scan written in this test;
//! - `hunt`: threat-hunting queries over all of `../shared/data/cloudtrail`, same method;
//! - `engine`: API-level behaviour (statistics, cancellation, @ptr, limits, 200 comparisons).
//! - `count_by`: the partial count of `stats count(*) by …` against DataFusion's own and an
//!   independent count;
//! - `scan`: late materialisation and early termination (work counters), and the same rows
//!   with the scan optimisations off.

mod common;
mod conformance;
mod corpus;
mod count_by;
mod engine;
mod hunt;
mod ngram;
mod scan;
mod seed;
mod units;
