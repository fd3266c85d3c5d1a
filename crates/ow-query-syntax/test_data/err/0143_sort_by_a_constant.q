# expect: Q337 1 "n"
stats count(*) as n by eventName
| sort "n" desc
