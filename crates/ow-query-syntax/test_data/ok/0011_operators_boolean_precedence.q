filter a = 1 or b = 2 and not c = 3
