# expect: Q329 1 anomaly
anomaly
