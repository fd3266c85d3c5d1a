# expect: Q326 1 denied
stats count(*) as Denied by eventName
| sort denied desc
