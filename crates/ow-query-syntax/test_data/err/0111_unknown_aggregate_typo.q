# expect: Q301 1 count_distinc
stats count_distinc(sourceIPAddress) by userIdentity.arn
