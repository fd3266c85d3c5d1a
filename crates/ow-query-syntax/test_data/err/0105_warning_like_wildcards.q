# expect: Q332 1 "%error%"
# expect: Q332 1 "*timeout"
filter @message like "%error%" or @message not like "*timeout"
