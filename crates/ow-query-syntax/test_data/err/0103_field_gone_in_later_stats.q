# expect: Q326 1 bytes
stats count(*) as n by host | stats sum(bytes)
