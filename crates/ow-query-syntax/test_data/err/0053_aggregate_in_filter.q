# expect: Q302 1 count(*)
filter count(*) > 10
