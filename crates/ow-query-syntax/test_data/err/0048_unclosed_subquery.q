# expect: Q202 -1 
filter x in (filter y = 1
