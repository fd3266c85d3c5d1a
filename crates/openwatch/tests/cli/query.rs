//! Tests of `openwatch query`.
