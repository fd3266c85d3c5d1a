//! `openwatch fmt`: print Logs Insights queries in canonical form
//! (`ow_query_syntax::print`: one command per line, canonical keyword case, double-quoted
//! strings, minimal parentheses).
//!
//! Queries come from `--query` and `--file` as for `openwatch check`; outputs are printed in
//! the same order, separated by a blank line. A query with syntax errors is not printed:
//! its diagnostics go to standard error and the exit status is 1, so nothing is lost.
//! Comments are kept (`ow_query_syntax::print_with_comments`): own-line comments stay before
//! the next command, end-of-line comments move to the end of their command's line.
//!
//! Exit status: 0 on success; 1 when a query has errors, or with `--check` when an input is
//! not already in canonical form; 2 on usage or I/O errors.

use std::process::ExitCode;

use ow_query_syntax::{parse, print_with_comments, render_named};

use super::check::{Color, Inputs};

/// Arguments of `openwatch fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: Inputs,
    /// Print nothing; exit 1 if any input is not in canonical form.
    #[arg(long)]
    check: bool,
    /// Colour the diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

/// Runs `openwatch fmt`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sources = args.inputs.read()?;
    let color = args.color.enabled() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut failed = false;
    let mut outputs = Vec::new();
    for s in &sources {
        // Only syntax matters for formatting; semantic problems are `check`'s business.
        let parsed = parse(&s.text);
        if parsed.diagnostics.iter().any(|d| d.is_error()) {
            eprint!(
                "{}",
                render_named(&s.name, &s.text, &parsed.diagnostics, color)
            );
            failed = true;
            continue;
        }
        let query = parsed.query.clone().unwrap_or_default();
        let canonical = print_with_comments(&query, &s.text, &parsed.comments);
        if args.check {
            if canonical != s.text.trim_end() {
                eprintln!("{}: not in canonical form", s.name);
                failed = true;
            }
        } else {
            outputs.push(canonical);
        }
    }
    if !outputs.is_empty() {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", outputs.join("\n\n"))?;
        stdout.flush()?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
