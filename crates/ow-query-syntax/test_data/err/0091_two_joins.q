# expect: Q325 1 join left=c right=d where c.x = d.x (SOURCE "h")
join left=a right=b where a.x = b.x (SOURCE "g") | join left=c right=d where c.x = d.x (SOURCE "h")
