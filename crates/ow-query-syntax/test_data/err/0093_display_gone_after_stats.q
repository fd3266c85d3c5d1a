# expect: Q326 1 status
stats count(*) as n by host | display n, status
