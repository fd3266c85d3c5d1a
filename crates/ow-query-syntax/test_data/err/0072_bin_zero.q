# expect: Q318 1 0m
stats count(*) by bin(0m)
