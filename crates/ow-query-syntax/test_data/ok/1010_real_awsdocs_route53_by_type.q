# source: awsdocs CWL_QuerySyntax-examples.md
stats count(*) by queryType, bin(1h)
