# expect: Q304 1 @timestamp
stats count(*) by bin(@timestamp)
