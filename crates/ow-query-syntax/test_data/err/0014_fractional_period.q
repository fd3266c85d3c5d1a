# expect: Q105 1 1.5h
stats count(*) by bin(1.5h)
