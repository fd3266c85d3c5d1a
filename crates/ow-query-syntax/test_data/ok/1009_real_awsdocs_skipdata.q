# source: awsdocs CWL_QuerySyntax-examples.md
filter logStatus="SKIPDATA"
| stats count(*) by bin(1h) as t
| sort t
