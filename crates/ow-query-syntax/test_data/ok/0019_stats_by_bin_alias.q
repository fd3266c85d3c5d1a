stats count(*) as n by bin(1h) as hour, @logStream | sort hour asc
