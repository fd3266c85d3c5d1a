# source: awsdocs CWL_QuerySyntax.md
fields f1, f2 | filter (f1=10 or f3>25)
