filter not (a = 1) and not b like /x/ and c not like 'y' and d not in [1] or not not e
