# expect: Q105 1 5parsecs
stats count(*) by bin(5parsecs)
