filter status in [300, 400, 500] and level not in ["DEBUG", 'TRACE'] and x in ["foo", "bar", 1]
