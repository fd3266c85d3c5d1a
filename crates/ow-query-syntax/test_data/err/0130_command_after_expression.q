# expect: Q203 1 limit
fields eventName limit 10
