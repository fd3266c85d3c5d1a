# expect: Q301 1 cnt
# expect: Q306 1 *
stats cnt(*)
