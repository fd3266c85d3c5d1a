# expect: Q202 1 x
lookup t f x
