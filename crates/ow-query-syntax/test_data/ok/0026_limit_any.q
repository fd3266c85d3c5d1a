filter @message like /x/ | limit any
