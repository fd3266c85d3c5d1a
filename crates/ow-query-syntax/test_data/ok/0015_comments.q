# count errors
fields @timestamp, @message
    # | filter @message like /debug/
| filter @message like /ERROR/ # trailing comment
| sort @timestamp desc
