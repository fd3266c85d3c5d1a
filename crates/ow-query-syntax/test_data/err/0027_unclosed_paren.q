# expect: Q202 -1 
filter (a = 1
