SOURCE '/aws/lambda/a', '/aws/lambda/b' start=-1d end=now | fields @message
