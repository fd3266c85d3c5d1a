# expect: Q305 1 1
stats 1
