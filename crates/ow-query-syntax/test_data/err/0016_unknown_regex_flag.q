# expect: Q107 1 /a/q
filter x like /a/q
