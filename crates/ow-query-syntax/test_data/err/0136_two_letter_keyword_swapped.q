# expect: Q203 1 yb
stats count(*) yb eventName
