# source: typex1/CloudWatch-Logs-Insights README
fields @timestamp, @message
| filter @message like /User ID/
| parse @message "User ID: *" as @userId
| stats count(*) by @userId
