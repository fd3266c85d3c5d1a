# expect: Q310 1 0
stats count(*) as n | appendcols max=0 (stats count(*) as m)
