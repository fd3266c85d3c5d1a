# expect: Q202 1 |
SOURCE | fields x
