# expect: Q303 1 strlen()
fields strlen()
