# expect: Q333 1 "2024-01-01"
# expect: Q333 1 "2024-02-01 00:00:00"
filter @timestamp >= "2024-01-01" and "2024-02-01 00:00:00" > @timestamp
