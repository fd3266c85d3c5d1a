# source: awsdocs CWL_QuerySyntax-examples.md
fields @timestamp, @message | sort @timestamp desc | limit 25
