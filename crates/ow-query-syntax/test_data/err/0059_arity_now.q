# expect: Q303 1 now(1)
fields now(1)
