fields x | autoregress x as prev p=1-3 | autoregress y p=2
