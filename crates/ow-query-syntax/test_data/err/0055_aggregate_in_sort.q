# expect: Q302 1 max(x)
sort max(x)
