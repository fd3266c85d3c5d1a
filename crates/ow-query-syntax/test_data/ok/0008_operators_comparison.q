filter a = 1 or b != 2 or c < 3 or d <= 4 or e > 5 or f >= 6
