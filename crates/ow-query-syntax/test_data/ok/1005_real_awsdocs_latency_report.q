# source: awsdocs CWL_QuerySyntax-examples.md
filter type = "REPORT" |
stats avg(@duration), max(@duration), min(@duration) by bin(5m)
