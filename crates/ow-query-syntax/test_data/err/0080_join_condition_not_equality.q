# expect: Q315 1 a.x > b.x
join left=a right=b where a.x > b.x (SOURCE "g")
