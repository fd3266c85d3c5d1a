# source: awsdocs CWL_QuerySyntax.md
fields f1, f2, f3 | sort f1 desc
