# source: awsdocs CWL_QuerySyntax.md
stats avg(f1) as myAvgF1 | sort myAvgF1 desc
