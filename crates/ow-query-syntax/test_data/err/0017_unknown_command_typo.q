# expect: Q201 1 fitler
fields x | fitler x = 1
