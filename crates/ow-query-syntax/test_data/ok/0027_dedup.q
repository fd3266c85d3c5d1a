fields @timestamp, host, status | sort @timestamp desc | dedup host, status | limit 10
