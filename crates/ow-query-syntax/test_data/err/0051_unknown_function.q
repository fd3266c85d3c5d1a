# expect: Q301 1 tolowr
fields tolowr(x)
