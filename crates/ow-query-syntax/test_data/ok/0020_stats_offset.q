stats count(*) by bin(1h) offset 1d
