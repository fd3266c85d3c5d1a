# expect: Q305 1 x
stats count(*) + x
