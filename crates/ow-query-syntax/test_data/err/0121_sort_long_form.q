# expect: Q203 1 descending
sort @timestamp descending
