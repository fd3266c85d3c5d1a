# expect: Q201 1 fitler
# expect: Q201 1 stast
# expect: Q302 1 count(*)
fitler x | stats avg(x) | stast | filter count(*) > 1
