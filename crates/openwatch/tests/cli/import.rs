//! Tests of `openwatch import`.
