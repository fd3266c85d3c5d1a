# expect: Q328 1 fillmissing
fields x | fillmissing
