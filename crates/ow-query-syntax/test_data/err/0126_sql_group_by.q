# expect: Q203 1 group
stats count(*) group by eventSource
