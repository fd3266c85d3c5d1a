# expect: Q309 1 300s
stats count(*) by bin(300s)
