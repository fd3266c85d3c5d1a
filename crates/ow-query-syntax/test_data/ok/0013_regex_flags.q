filter @message like /error/i
