# source: awsdocs CWL_QuerySyntax-examples.md
stats count(*) by eventSource, eventName, awsRegion
