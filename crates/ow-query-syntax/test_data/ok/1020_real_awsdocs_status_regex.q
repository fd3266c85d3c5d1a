# source: awsdocs CWL_QuerySyntax.md
fields f1 | filter statusCode like /2\d\d/
