# source: typex1/CloudWatch-Logs-Insights README
fields @timestamp, @message
| filter @message like /value too/
| parse @message "value too *" as @value
#| stats count(*) by @userId
| sort @timestamp desc
| limit 20
