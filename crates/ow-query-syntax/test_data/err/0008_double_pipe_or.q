# expect: Q104 1 ||
filter a = 1 || b = 2
