# source: awsdocs CWL_QuerySyntax.md
stats avg (f1) by f2
