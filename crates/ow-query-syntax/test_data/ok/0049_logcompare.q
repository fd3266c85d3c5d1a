SOURCE "/aws/lambda/x" start=-1d end=now | logcompare timeshift 1d
