# source: awsdocs CWL_QuerySyntax-examples.md
filter eventName="CreateUser"
| fields awsRegion, requestParameters.userName, responseElements.user.arn
