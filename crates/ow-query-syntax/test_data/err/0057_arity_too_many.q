# expect: Q303 1 abs(x, y)
fields abs(x, y)
