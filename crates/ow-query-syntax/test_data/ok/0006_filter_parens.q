filter (duration>2000)
