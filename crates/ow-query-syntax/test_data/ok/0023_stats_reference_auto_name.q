stats count(*) by host | sort count(*) desc | limit 5
