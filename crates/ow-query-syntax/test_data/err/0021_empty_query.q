# expect: Q208 1 

