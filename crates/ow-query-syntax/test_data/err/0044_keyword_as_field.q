# expect: Q202 1 by
filter by = 1
