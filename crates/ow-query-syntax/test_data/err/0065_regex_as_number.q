# expect: Q304 1 /x/
fields abs(/x/)
