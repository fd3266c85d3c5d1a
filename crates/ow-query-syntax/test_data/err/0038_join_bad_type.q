# expect: Q211 1 outer
join type=outer left=a right=b where a.x = b.x (SOURCE "g")
