# expect: Q204 1 |
| fields x
