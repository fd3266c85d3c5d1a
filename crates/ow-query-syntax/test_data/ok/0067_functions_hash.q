fields md5(s), sha256(s)
