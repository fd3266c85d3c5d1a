# source: awsdocs CWL_QuerySyntax.md
fields f1, f2, f3 | filter f1 =~ /^(?i)Exception$/
