# expect: Q210 1 )
fields a)
