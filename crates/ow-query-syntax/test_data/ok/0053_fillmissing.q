stats count(*) as hits, sum(bytes) as b by bin(1m) | fillmissing with 0 for hits, -1 for b
