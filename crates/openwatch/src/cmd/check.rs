//! `openwatch check`: lint Logs Insights queries the way AWS compiles them.
//!
//! Each `--query` and each `--file` (one query per file; `-` is standard input) is parsed
//! and checked with `ow_query_syntax::analyze`. Diagnostics are printed to standard output
//! as `name:line:column` with a caret under the span; names are the file path, `<stdin>`,
//! or `<query N>` for the N-th `--query`. Inline queries are checked first, then files, each
//! in command-line order.
//!
//! Exit status: 0 when every query is valid (warnings allowed unless `--deny-warnings`),
//! 1 when any query is invalid, 2 on usage or I/O errors (see `main.rs`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ow_query_syntax::{analyze, render_named, CheckConfig};

/// When to colour diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// Colour when standard output is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Color {
    /// Resolves `auto` against standard output.
    pub fn enabled(self) -> bool {
        match self {
            Color::Auto => std::io::stdout().is_terminal(),
            Color::Always => true,
            Color::Never => false,
        }
    }
}

/// Where queries come from: shared by `check` and `fmt`.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// A query to check (repeatable).
    #[arg(long = "query", short = 'q', value_name = "QUERY")]
    pub queries: Vec<String>,
    /// Files holding one query each (`--file a b`, as a shell glob gives them, or repeated);
    /// `-` reads standard input.
    #[arg(long = "file", short = 'f', value_name = "FILE", num_args = 1..)]
    pub files: Vec<PathBuf>,
}

/// One query to process: its display name and text.
pub struct Source {
    /// `<query N>`, `<stdin>` or the file path.
    pub name: String,
    /// The query text.
    pub text: String,
}

impl Inputs {
    /// Reads every input, inline queries first, then files, each in order.
    ///
    /// # Errors
    /// No input given, an unreadable file, or a file that is not UTF-8.
    pub fn read(&self) -> anyhow::Result<Vec<Source>> {
        if self.queries.is_empty() && self.files.is_empty() {
            anyhow::bail!("nothing to do: give --query QUERY or --file FILE (use --file - for standard input)");
        }
        let mut out = Vec::new();
        for (i, q) in self.queries.iter().enumerate() {
            out.push(Source {
                name: format!("<query {}>", i + 1),
                text: q.clone(),
            });
        }
        for path in &self.files {
            let (name, bytes) = if path.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .context("reading standard input")?;
                ("<stdin>".to_string(), buf)
            } else {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                (path.display().to_string(), bytes)
            };
            let mut text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{name} is not valid UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            })?;
            // editors on Windows like to start files with a byte-order mark
            if let Some(rest) = text.strip_prefix('\u{feff}') {
                text = rest.to_string();
            }
            out.push(Source { name, text });
        }
        Ok(out)
    }
}

/// Arguments of `openwatch check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: Inputs,
    /// Treat warnings as errors (exit 1).
    #[arg(long)]
    deny_warnings: bool,
    /// Maximum `stats` commands per query. AWS documents 2; newer AWS behaviour may allow
    /// more.
    #[arg(long, value_name = "N", default_value_t = CheckConfig::default().max_stats_commands)]
    max_stats_commands: usize,
    /// Do not print the summary line.
    #[arg(long)]
    quiet: bool,
    /// Colour the diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

/// Runs `openwatch check`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sources = args.inputs.read()?;
    let config = CheckConfig {
        max_stats_commands: args.max_stats_commands,
        ..CheckConfig::default()
    };
    let color = args.color.enabled();
    let mut invalid = 0usize;
    let mut out = String::new();
    for s in &sources {
        let a = analyze(&s.text, &config);
        let rejected = a.has_errors() || (args.deny_warnings && !a.diagnostics.is_empty());
        if rejected {
            invalid += 1;
        }
        if !a.diagnostics.is_empty() {
            out.push_str(&render_named(&s.name, &s.text, &a.diagnostics, color));
        }
    }
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    if !args.quiet {
        let n = sources.len();
        eprintln!(
            "checked {n} quer{}: {} valid, {invalid} invalid",
            if n == 1 { "y" } else { "ies" },
            n - invalid
        );
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
