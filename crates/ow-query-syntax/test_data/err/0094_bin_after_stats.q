# expect: Q327 1 bin(5m)
stats count(*) as n by host | stats sum(n) by bin(5m)
