# source: awsdocs CWL_QuerySyntax-examples.md
fields @message | filter @message not like /Exception/
