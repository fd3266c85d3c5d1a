# expect: Q104 1 !~
filter a !~ /x/
