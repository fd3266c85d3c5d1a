# expect: Q205 2 <
filter 1 < x < 5
