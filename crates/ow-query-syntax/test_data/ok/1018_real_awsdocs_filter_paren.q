# source: awsdocs CWL_QuerySyntax.md
fields f1, f2, f3 | filter (duration>2000)
