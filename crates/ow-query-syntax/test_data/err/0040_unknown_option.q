# expect: Q207 1 factor
outlier factor=2 x
