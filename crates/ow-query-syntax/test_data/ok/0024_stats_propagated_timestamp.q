stats max(@timestamp) as @t, count(*) as n by bin(1m) | stats sum(n) by datefloor(@t, 5m)
