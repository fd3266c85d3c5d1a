# expect: Q307 1 count(*)
stats sum(count(*))
