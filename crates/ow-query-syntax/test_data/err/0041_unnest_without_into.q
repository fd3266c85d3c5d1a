# expect: Q202 -1 
unnest j.items
