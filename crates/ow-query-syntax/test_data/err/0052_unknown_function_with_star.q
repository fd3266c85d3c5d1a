# expect: Q301 1 cnt
stats cnt(*)
