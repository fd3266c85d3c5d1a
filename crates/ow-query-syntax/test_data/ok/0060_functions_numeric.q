fields abs(x), ceil(x), floor(x), greatest(a, b, c), least(a, b), log(x), sqrt(x), round(x), round(x, 2), haversine(a, b, c, d), toNumber(s), toInt(x), toLong(x), toDouble(x)
