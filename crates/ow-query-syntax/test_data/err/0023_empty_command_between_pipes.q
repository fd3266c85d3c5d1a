# expect: Q202 2 |
fields x | | limit 1
