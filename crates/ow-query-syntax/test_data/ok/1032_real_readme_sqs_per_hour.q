# source: evanharmon/eph-headspace aws-cloudwatch-insight-query-examples.md
fields @message
| filter ispresent(MessageId)
| stats count(MessageId) as Counter by bin(1h)
| sort @timestamp desc
| limit 20
