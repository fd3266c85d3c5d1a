stats count(*), count(), count(x), count_distinct(ip), avg(x), sum(x), min(x), max(x), pct(x, 99), stddev(x), earliest(x), latest(x), sortsFirst(x), sortsLast(x)
