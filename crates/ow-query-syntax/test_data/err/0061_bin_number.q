# expect: Q304 1 5
stats count(*) by bin(5)
