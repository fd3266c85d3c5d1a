FIELDS @timestamp AS t | Filter x IN [1, 2] | SORT t DESC | LIMIT 5
