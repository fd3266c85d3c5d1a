# expect: Q202 -1 
filter
