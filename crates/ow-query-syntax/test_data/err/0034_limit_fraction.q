# expect: Q211 1 2.5
limit 2.5
