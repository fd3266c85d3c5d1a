# expect: Q203 1 awsRegion
stats count(*) by eventName awsRegion
