# expect: Q202 -1 
filter a in [1, 2
