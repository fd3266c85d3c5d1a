# expect: Q301 1 cnt
stats cnt(*) by eventName
| sort count(*) desc
