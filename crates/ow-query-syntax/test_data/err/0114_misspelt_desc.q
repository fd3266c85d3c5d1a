# expect: Q203 1 dsc
stats count(*) as n by eventName
| sort n dsc
