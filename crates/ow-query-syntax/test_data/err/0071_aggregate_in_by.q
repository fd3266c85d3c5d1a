# expect: Q308 1 max(x)
stats count(*) by max(x)
