# expect: Q324 1 stats max(b) as c
stats count(*) as a by x | stats sum(a) as b by x | stats max(b) as c
