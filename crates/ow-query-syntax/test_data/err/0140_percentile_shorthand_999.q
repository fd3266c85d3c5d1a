# expect: Q301 1 p999
stats p999(duration) as tail by bin(5m)
