# expect: Q202 1 2
filter a in [1 2]
