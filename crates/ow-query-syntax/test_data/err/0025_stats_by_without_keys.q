# expect: Q202 -1 
stats count(*) by
