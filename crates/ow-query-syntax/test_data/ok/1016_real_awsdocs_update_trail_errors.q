# source: awsdocs CWL_QuerySyntax-examples.md
filter eventName="UpdateTrail" and ispresent(errorCode)
| stats count(*) by errorCode, errorMessage
