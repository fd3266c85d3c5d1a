join left=a right=b where a.id = b.id (SOURCE "/app/b" | filter level = "ERROR" | fields id, msg)
