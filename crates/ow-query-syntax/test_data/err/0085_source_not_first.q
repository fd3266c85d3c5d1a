# expect: Q320 1 SOURCE "g"
fields x | SOURCE "g"
