# expect: Q301 1 p90
stats p90(duration) by bin(5m)
