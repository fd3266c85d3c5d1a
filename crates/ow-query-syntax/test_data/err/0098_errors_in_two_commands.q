# expect: Q104 1 ==
# expect: Q301 1 tolowr
# expect: Q310 1 0
filter a == 1 | fields tolowr(b) | limit 0
