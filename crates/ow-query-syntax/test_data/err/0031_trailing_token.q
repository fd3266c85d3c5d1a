# expect: Q203 1 b
filter a = 1 b
