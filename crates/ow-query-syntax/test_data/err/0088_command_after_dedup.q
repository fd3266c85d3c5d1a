# expect: Q322 1 sort x
dedup x | sort x
