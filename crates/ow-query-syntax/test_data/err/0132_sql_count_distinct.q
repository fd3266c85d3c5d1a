# expect: Q202 1 sourceIPAddress
stats count(distinct sourceIPAddress) by userIdentity.arn
