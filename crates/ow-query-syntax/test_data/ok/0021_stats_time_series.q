stats rate(bytes, 1m), count_over_time(x), countOverTime(y), sum_over_time(bytes), histogram(latency, 10) by bin(5m)
