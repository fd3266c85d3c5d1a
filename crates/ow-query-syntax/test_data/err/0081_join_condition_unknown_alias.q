# expect: Q315 1 a.x = c.x
join left=a right=b where a.x = c.x (SOURCE "g")
