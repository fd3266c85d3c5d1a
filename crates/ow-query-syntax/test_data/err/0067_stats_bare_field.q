# expect: Q305 1 x
stats x
