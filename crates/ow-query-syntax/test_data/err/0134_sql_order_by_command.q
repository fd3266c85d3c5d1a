# expect: Q201 1 order
stats count(*) as n by eventName
| order by n desc
