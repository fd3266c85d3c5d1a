//! The Logs Insights query language front end: lexer, parser, AST, semantic checks,
//! pretty-printer and diagnostic rendering (spec `insights-language.md` §2, §4, §5).
//!
//! Work in progress: the AST ([`ast`]) is published first so the planner can be built
//! against it.

pub mod ast;
