# expect: Q203 1 having
stats count(*) as n by eventName having n > 1
