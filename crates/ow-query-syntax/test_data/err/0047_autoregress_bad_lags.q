# expect: Q310 1 p=3-1
autoregress x p=3-1
