//! Terminal rendering of diagnostics with codespan-reporting: `file:line:column`, the
//! source line and a caret under the span, then labels, help and notes.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use ow_diagnostics::{Diagnostic, Severity, Span};

/// Renders diagnostics for `src` without colour, naming the source `<query>`.
pub fn render(src: &str, diagnostics: &[Diagnostic]) -> String {
    render_named("<query>", src, diagnostics, false)
}

/// Renders diagnostics for `src`, naming it `name` (a file path or `<query N>`); `color`
/// adds ANSI colours. Spans outside `src` or off character boundaries are clamped.
pub fn render_named(name: &str, src: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let file = SimpleFile::new(name, src);
    let config = term::Config::default();
    let mut out = Vec::new();
    for d in diagnostics {
        let cs_diag = to_codespan(src, d);
        let result = if color {
            let mut w = termcolor::Ansi::new(&mut out);
            term::emit(&mut w, &config, &file, &cs_diag)
        } else {
            let mut w = termcolor::NoColor::new(&mut out);
            term::emit(&mut w, &config, &file, &cs_diag)
        };
        if result.is_err() {
            // Rendering can only fail on bad spans, which we clamp; fall back to one line.
            out.extend_from_slice(format!("{d}\n").as_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Clamps a span into `src` on character boundaries.
fn clamp(src: &str, span: Span) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(src.len());
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (s, e) = (fix(span.start), fix(span.end));
    s..e.max(s)
}

fn to_codespan(src: &str, d: &Diagnostic) -> cs::Diagnostic<()> {
    let severity = match d.severity {
        Severity::Bug => cs::Severity::Bug,
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let mut labels =
        vec![cs::Label::primary((), clamp(src, d.span)).with_message(&d.primary_label)];
    for l in &d.labels {
        labels.push(cs::Label::secondary((), clamp(src, l.span)).with_message(&l.message));
    }
    let mut notes: Vec<String> = d.help.iter().map(|h| format!("help: {h}")).collect();
    notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
    cs::Diagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}
