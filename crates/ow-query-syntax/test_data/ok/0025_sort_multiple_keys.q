sort @timestamp desc, x asc, y
