# expect: Q202 -1 
fields x |
