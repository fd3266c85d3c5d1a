# expect: Q306 1 *
stats sum(*)
