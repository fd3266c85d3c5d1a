fields @timestamp, @message
