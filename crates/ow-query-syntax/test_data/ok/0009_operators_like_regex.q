filter @message like /(?i)error/ and @message not like "debug" and msg =~ /^GET \/api\//
