# expect: Q321 1 limit 10
limit 10 | stats count(*) as n by x | stats sum(n)
