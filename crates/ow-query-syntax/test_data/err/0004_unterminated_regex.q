# expect: Q103 1 /
filter @message like /abc
