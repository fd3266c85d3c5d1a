# expect: Q302 1 avg(x)
fields avg(x)
