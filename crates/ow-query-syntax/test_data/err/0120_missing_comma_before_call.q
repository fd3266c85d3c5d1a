# expect: Q203 1 bin
stats count(*) by eventName bin(5m)
