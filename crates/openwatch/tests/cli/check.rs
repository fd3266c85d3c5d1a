//! Tests of `openwatch check`.
