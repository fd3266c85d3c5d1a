# expect: Q301 1 percentile
stats percentile(latency, 90) by service
