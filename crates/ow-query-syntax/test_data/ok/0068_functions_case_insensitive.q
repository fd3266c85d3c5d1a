fields TOUPPER(s), ToMillis(@timestamp) | STATS COUNT(*), Count_Distinct(x) BY BIN(5m)
