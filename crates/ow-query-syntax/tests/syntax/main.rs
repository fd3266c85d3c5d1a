//! Integration tests of the query front end (one test binary: see COMMON.md).
//!
//! - `golden`: `test_data/{ok,err}/NNNN_name.q` with `.ast` / `.diag` goldens beside them
//!   (regenerate with `UPDATE_EXPECT=1 cargo test -p ow-query-syntax`); `err` files also
//!   carry hand-written `# expect: <code> <occurrence> <text>` headers that pin the code and
//!   the exact primary span, independent of the goldens.
//! - `examples`: every worked example of spec §11 checks clean.
//! - `spans`: span invariants and exact spans of nodes.
//! - `roundtrip`: proptest `parse(print(ast)) == ast`.
//! - `mutate`: thousands of deterministic mutations of the corpus never panic.

mod common;
mod examples;
mod golden;
mod mutate;
mod roundtrip;
mod spans;
