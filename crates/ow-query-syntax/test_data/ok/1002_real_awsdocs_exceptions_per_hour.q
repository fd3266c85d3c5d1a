# source: awsdocs CWL_QuerySyntax-examples.md
filter @message like /Exception/ 
| stats count(*) as exceptionCount by bin(1h)
| sort exceptionCount desc
