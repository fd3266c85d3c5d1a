# source: awsdocs CWL_QuerySyntax-examples.md
stats count(*) as numRequests by resolverIp
| sort numRequests desc
| limit 10
