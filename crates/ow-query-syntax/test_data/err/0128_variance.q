# expect: Q301 1 variance
stats variance(duration) as v by eventName
