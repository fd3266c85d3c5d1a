# expect: Q304 1 "x"
filter ispresent("x")
