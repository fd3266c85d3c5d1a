# source: awsdocs CWL_QuerySyntax-examples.md
filter (eventName="StartInstances" or eventName="StopInstances") and region="us-east-2"
