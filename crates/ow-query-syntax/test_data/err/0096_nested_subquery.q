# expect: Q330 1 (filter c = 1 | fields c)
filter a in (filter b in (filter c = 1 | fields c) | fields b)
