# expect: Q201 1 stast
stast count(*)
