# expect: Q310 1 0
limit 0
