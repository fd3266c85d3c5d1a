# source: awsdocs CWL_QuerySyntax-examples.md
filter protocol=17 | stats count(*) by srcAddr
