# expect: Q202 1 ten
limit ten
