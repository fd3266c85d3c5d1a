# source: awsdocs CWL_QuerySyntax-examples.md
filter responseCode="SERVFAIL" | stats count(*) by queryName
