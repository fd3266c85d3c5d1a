# expect: Q302 1 rate(bytes, 1m)
fields rate(bytes, 1m)
