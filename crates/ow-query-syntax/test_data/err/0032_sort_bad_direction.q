# expect: Q203 1 up
sort x up
