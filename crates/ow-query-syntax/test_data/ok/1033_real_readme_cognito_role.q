# source: evanharmon/eph-headspace aws-cloudwatch-insight-query-examples.md
fields @timestamp, @message
| filter userIdentity.arn like /(?i)(arn:aws:sts::111111111111:assumed-role\/myrole-unauth\/CognitoIdentityCredentials)/
| sort @timestamp desc
| limit 200
