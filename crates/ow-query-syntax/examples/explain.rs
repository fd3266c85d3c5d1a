//! Prints the AST, canonical form and rendered diagnostics of a query given as argument.
//! `cargo run -p ow-query-syntax --example explain -- 'fields @message | limit 5'`

fn main() {
    let src = std::env::args().nth(1).unwrap_or_default();
    let a = ow_query_syntax::analyze(&src, &ow_query_syntax::CheckConfig::default());
    println!("{:#?}", a.query);
    println!("--- canonical\n{}", ow_query_syntax::print(&a.query));
    println!(
        "--- diagnostics\n{}",
        ow_query_syntax::render(&src, &a.diagnostics)
    );
}
