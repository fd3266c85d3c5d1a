fields @timestamp, bytes | sort @timestamp asc | accum bytes as runningBytes
