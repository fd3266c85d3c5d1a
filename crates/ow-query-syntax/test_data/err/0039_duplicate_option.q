# expect: Q206 2 param
outlier param=1 param=2 x
