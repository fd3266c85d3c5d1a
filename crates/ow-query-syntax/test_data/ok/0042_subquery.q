filter requestId in (SOURCE '/aws/lambda/db' | filter errorType = "Timeout" | fields requestId) | fields @timestamp, requestId, route
