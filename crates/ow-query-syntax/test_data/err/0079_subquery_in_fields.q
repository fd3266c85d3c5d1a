# expect: Q314 1 (filter y = 1)
fields x in (filter y = 1)
