fields @timestamp, latency | outlier action=remove param=3.0 uselower=true mark=false latency | stats avg(latency)
