# expect: Q104 1 !
filter !ispresent(x)
