# source: evanharmon/eph-headspace aws-cloudwatch-insight-query-examples.md
filter @message like /(?i)(Exception|error|fail)/| fields @timestamp, @message | sort @timestamp desc | limit 20
